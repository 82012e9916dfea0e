import { describe, expect, it } from 'vitest';
import { fitTasks, type InstanceSnapshot } from './fit.js';
import { seededRandom } from './rng.js';

const snapshot = (id: string, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot => ({
  id,
  arn: `arn:aws:ecs:us-east-1:000000000000:container-instance/default/${id}`,
  status: 'ACTIVE',
  agentConnected: true,
  remaining: { cpu: 1024, memory: 1024, ports: [], portsUdp: [] },
  ...over,
});
const needs = { cpu: 256, memory: 512, ports: [80], portsUdp: [] };

describe('fitTasks (RunTask until it calls place)', () => {
  it('places on ACTIVE connected instances with room, counting earlier tasks of the request', () => {
    const instances = [snapshot('a'), snapshot('draining', { status: 'DRAINING' }), snapshot('b'), snapshot('off', { agentConnected: false })];
    const r = fitTasks(instances, { count: 2, needs }, seededRandom(1));
    expect([...r.placements].sort()).toEqual(['a', 'b']);
    expect(r.failures).toEqual([]);
  });

  it('reports each ACTIVE connected instance with the reason it was turned down', () => {
    const instances = [
      snapshot('a', { remaining: { cpu: 1024, memory: 1024, ports: [80], portsUdp: [] } }),
      snapshot('off', { agentConnected: false }),
      snapshot('small', { remaining: { cpu: 1024, memory: 100, ports: [], portsUdp: [] } }),
    ];
    const r = fitTasks(instances, { count: 1, needs }, Math.random);
    expect(r).toEqual({
      placements: [],
      failures: [
        { arn: instances[0]!.arn, reason: 'RESOURCE:PORTS' },
        { arn: instances[2]!.arn, reason: 'RESOURCE:MEMORY' },
      ],
    });
  });
});
