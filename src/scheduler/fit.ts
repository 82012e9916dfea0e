import { shortfall, type Capacity } from '../model/container-instance.js';
import type { TaskNeeds } from '../model/task.js';

/** What placement sees of one container instance. */
export interface InstanceSnapshot {
  readonly id: string;
  readonly arn: string;
  readonly status: string;
  readonly agentConnected: boolean;
  readonly remaining: Capacity;
}

export interface FitRequest {
  readonly count: number;
  readonly needs: TaskNeeds;
}

export interface FitResult {
  /** The instance id for each task placed, in order. */
  readonly placements: string[];
  /** ECS failure records for the tasks that could not be placed (one per instance that was considered). */
  readonly failures: { arn: string; reason: string }[];
}

/**
 * Resource-fit placement: each task goes to a random ACTIVE, connected instance that still has the CPU,
 * memory and ports it needs (counting tasks placed earlier in the same request). Pure; `random` makes it
 * deterministic in tests. The placement engine (strategies, constraints) builds on this.
 */
export function fitTasks(instances: readonly InstanceSnapshot[], request: FitRequest, random: () => number): FitResult {
  const candidates = instances.filter((i) => i.status === 'ACTIVE' && i.agentConnected);
  const remaining = new Map(candidates.map((i) => [i.id, i.remaining]));
  const placements: string[] = [];
  for (let n = 0; n < request.count; n++) {
    const fitting = candidates.filter((i) => shortfall(remaining.get(i.id)!, request.needs) === undefined);
    if (fitting.length === 0) {
      return {
        placements,
        failures: candidates.map((i) => ({ arn: i.arn, reason: `RESOURCE:${shortfall(remaining.get(i.id)!, request.needs)}` })),
      };
    }
    const chosen = fitting[Math.floor(random() * fitting.length)]!;
    placements.push(chosen.id);
    const r = remaining.get(chosen.id)!;
    remaining.set(chosen.id, {
      cpu: r.cpu - request.needs.cpu,
      memory: r.memory - request.needs.memory,
      ports: [...r.ports, ...request.needs.ports],
      portsUdp: [...r.portsUdp, ...request.needs.portsUdp],
    });
  }
  return { placements, failures: [] };
}
