import { describe, expect, it } from 'vitest';
import { SPOT_WARNING_MS, spotStopDeadline, spotTasksToInterrupt, type PoolHost } from './spot-interruption.js';

const needs = (cpu: number, memory: number) => ({ cpu, memory, ports: [], portsUdp: [] });
const host = (instanceId: string, cpu: number, memory: number, spot: [string, number, number][]): PoolHost => ({
  instanceId,
  remaining: { cpu, memory, ports: [], portsUdp: [] },
  spotTasks: spot.map(([taskId, c, m]) => ({ taskId, needs: needs(c, m) })),
});

describe('spotTasksToInterrupt', () => {
  it('takes the fewest spot tasks of one host, largest first, that leave room', () => {
    const hosts = [host('a', 0, 0, [['s1', 256, 512], ['s2', 256, 512]]), host('b', 256, 0, [['s3', 1024, 2048]])];
    expect(spotTasksToInterrupt(hosts, needs(256, 1024))).toEqual({ instanceId: 'b', taskIds: ['s3'] });
    expect(spotTasksToInterrupt([hosts[0]!], needs(256, 1024))).toEqual({ instanceId: 'a', taskIds: ['s1', 's2'] });
  });

  it('finds nothing when even every spot task of a host would not make room, or there is none to stop', () => {
    expect(spotTasksToInterrupt([host('a', 0, 0, [['s1', 256, 512]])], needs(256, 1024))).toBeUndefined();
    expect(spotTasksToInterrupt([host('a', 0, 0, [])], needs(256, 512))).toBeUndefined();
    expect(spotTasksToInterrupt([], needs(256, 512))).toBeUndefined();
  });
});

describe('spotStopDeadline', () => {
  it('ends the warning two minutes after the interruption was decided (stoppingAt), for Spot interruptions only', () => {
    expect(SPOT_WARNING_MS).toBe(120_000);
    expect(spotStopDeadline({ stopCode: 'SpotInterruption', stoppingAt: 1_800_000_000.5 })).toBe(1_800_000_000_500 + 120_000);
    expect(spotStopDeadline({ stopCode: 'SpotInterruption', stoppingAt: new Date(1_000) })).toBe(121_000);
    expect(spotStopDeadline({ stopCode: 'UserInitiated', stoppingAt: 1 })).toBeUndefined();
    expect(spotStopDeadline({ stopCode: 'SpotInterruption' })).toBeUndefined();
  });
});
