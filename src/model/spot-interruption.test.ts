import { describe, expect, it } from 'vitest';
import { afterPlacements, planSpotInterruptions, SPOT_WARNING_MS, spotStopDeadline, spotTasksToInterrupt, type PoolHost } from './spot-interruption.js';

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

describe('planSpotInterruptions', () => {
  it('picks per missing task, counting each pick as holding its new task and no longer the interrupted ones', () => {
    // Host a: full, three spot tasks of 512 MiB; the on-demand tasks need 512 MiB each.
    const a = host('a', 1024, 0, [['s1', 256, 512], ['s2', 256, 512], ['s3', 256, 512]]);
    expect(planSpotInterruptions([a], needs(256, 512), 2)).toEqual([
      { instanceId: 'a', taskIds: ['s1'] },
      { instanceId: 'a', taskIds: ['s2'] },
    ]);
    // More missing than the spot tasks can free: as many picks as they allow.
    expect(planSpotInterruptions([a], needs(256, 512), 5)).toHaveLength(3);
    expect(planSpotInterruptions([host('b', 1024, 0, [])], needs(256, 512), 1)).toEqual([]);
  });

  it('sees the room the call’s placed tasks took (afterPlacements)', () => {
    // 512 MiB left and one task placed there: nothing left, so the missing one needs an interruption.
    const a = host('a', 1024, 512, [['s1', 256, 512]]);
    const placed = afterPlacements([a], ['a'], needs(256, 512));
    expect(placed[0]!.remaining).toMatchObject({ cpu: 768, memory: 0 });
    expect(planSpotInterruptions(placed, needs(256, 512), 1)).toEqual([{ instanceId: 'a', taskIds: ['s1'] }]);
    expect(afterPlacements([a], [], needs(256, 512))).toEqual([a]);
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
