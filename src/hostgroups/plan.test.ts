import { describe, expect, it } from 'vitest';
import type { HostInstanceRecord } from '../state/records/host-groups.js';
import { hostGroup, hostInstance } from './testing/records.js';
import { planGroup } from './plan.js';

const instance = (id: string, zone: string, extra: Partial<HostInstanceRecord> = {}) => hostInstance(id, { availabilityZone: zone, ...extra });
const group = (desired: number, instances: HostInstanceRecord[], zones = ['z-1a', 'z-1b', 'z-1c']) => hostGroup(desired, instances, { availabilityZones: zones });

const view = { now: 1_000, registered: () => false, registrationTimeoutMs: 500 };

describe('a group plan', () => {
  it('launches into the zones with the fewest live hosts', () => {
    expect(planGroup(group(4, [instance('i-1', 'z-1a')]), view)).toEqual([
      { kind: 'launch', availabilityZone: 'z-1b' },
      { kind: 'launch', availabilityZone: 'z-1c' },
      { kind: 'launch', availabilityZone: 'z-1a' },
    ]);
  });

  it('scales in from the fullest zone, an old configuration first, never a protected host', () => {
    const hosts = [
      instance('i-1', 'z-1a', { protectedFromScaleIn: true }),
      instance('i-2', 'z-1a', { launchedAt: 5 }),
      instance('i-3', 'z-1a', { launchConfigurationName: 'old' }),
      instance('i-4', 'z-1b'),
    ];
    expect(planGroup(group(2, hosts), view)).toEqual([
      { kind: 'scale-in', instanceId: 'i-3' },
      { kind: 'scale-in', instanceId: 'i-2' },
    ]);
    expect(planGroup(group(0, [instance('i-1', 'z-1a', { protectedFromScaleIn: true })]), view)).toEqual([]);
  });

  it('puts registered hosts in service and replaces those silent past the timeout', () => {
    const hosts = [instance('i-1', 'z-1a', { lifecycleState: 'Pending', launchedAt: 900 }), instance('i-2', 'z-1b', { lifecycleState: 'Pending', launchedAt: 400 })];
    expect(planGroup(group(2, hosts), { ...view, registered: (id) => id === 'i-1' })).toEqual([
      { kind: 'in-service', instanceId: 'i-1' },
      { kind: 'registration-timeout', instanceId: 'i-2' },
      { kind: 'launch', availabilityZone: 'z-1b' },
    ]);
    // Terminating hosts do not count toward the desired capacity.
    expect(planGroup(group(1, [instance('i-3', 'z-1a', { lifecycleState: 'Terminating' })]), view)).toEqual([{ kind: 'launch', availabilityZone: 'z-1a' }]);
  });
});
