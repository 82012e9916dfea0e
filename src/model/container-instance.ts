import type { Resource } from '@aws-sdk/client-ecs';
import type { TaskNeeds } from './task.js';

/**
 * REGISTERING → ACTIVE ⇄ DRAINING → DEREGISTERING → INACTIVE (REGISTRATION_FAILED when registration fails).
 * Only ACTIVE instances whose agent is connected receive new tasks.
 */
export const instanceStatuses = ['REGISTERING', 'REGISTRATION_FAILED', 'ACTIVE', 'DRAINING', 'DEREGISTERING', 'INACTIVE'] as const;
export type InstanceStatus = (typeof instanceStatuses)[number];

/** An instance's capacity in the units placement works with. */
export interface Capacity {
  readonly cpu: number;
  readonly memory: number;
  /** Host ports that are taken (reserved by the agent's configuration or held by tasks). */
  readonly ports: readonly number[];
  readonly portsUdp: readonly number[];
}

export const emptyNeeds: TaskNeeds = { cpu: 0, memory: 0, ports: [], portsUdp: [] };

/** Read CPU, MEMORY, PORTS and PORTS_UDP out of ECS Resource records. */
export function capacityOf(resources: readonly Resource[] | undefined): Capacity {
  const find = (name: string) => resources?.find((r) => r.name === name);
  const ports = (name: string) => (find(name)?.stringSetValue ?? []).map(Number).filter(Number.isInteger);
  return {
    cpu: find('CPU')?.integerValue ?? 0,
    memory: find('MEMORY')?.integerValue ?? 0,
    ports: ports('PORTS'),
    portsUdp: ports('PORTS_UDP'),
  };
}

/** ECS Resource records for a capacity. */
export function toResources(c: Capacity): Resource[] {
  return [
    { name: 'CPU', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: c.cpu },
    { name: 'MEMORY', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: c.memory },
    { name: 'PORTS', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: c.ports.map(String) },
    { name: 'PORTS_UDP', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: c.portsUdp.map(String) },
  ];
}

/** What is left of `registered` once `reserved` (the sum of its tasks' needs) is taken out. */
export function remainingCapacity(registered: Capacity, reserved: TaskNeeds): Capacity {
  return {
    cpu: registered.cpu - reserved.cpu,
    memory: registered.memory - reserved.memory,
    ports: unique([...registered.ports, ...reserved.ports]),
    portsUdp: unique([...registered.portsUdp, ...reserved.portsUdp]),
  };
}

export function addNeeds(a: TaskNeeds, b: TaskNeeds): TaskNeeds {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, ports: [...a.ports, ...b.ports], portsUdp: [...a.portsUdp, ...b.portsUdp] };
}

/** `a` without `b`: ports are removed once per occurrence. */
export function subtractNeeds(a: TaskNeeds, b: TaskNeeds): TaskNeeds {
  const without = (xs: readonly number[], ys: readonly number[]) => {
    const out = [...xs];
    for (const y of ys) {
      const i = out.indexOf(y);
      if (i >= 0) out.splice(i, 1);
    }
    return out;
  };
  return {
    cpu: Math.max(0, a.cpu - b.cpu),
    memory: Math.max(0, a.memory - b.memory),
    ports: without(a.ports, b.ports),
    portsUdp: without(a.portsUdp, b.portsUdp),
  };
}

/** The first resource `needs` lacks on `remaining`, ECS's failure reason; undefined when it fits. */
export function shortfall(remaining: Capacity, needs: TaskNeeds): 'CPU' | 'MEMORY' | 'PORTS' | undefined {
  if (needs.cpu > remaining.cpu) return 'CPU';
  if (needs.memory > remaining.memory) return 'MEMORY';
  const taken = new Set(remaining.ports);
  const takenUdp = new Set(remaining.portsUdp);
  const seen = new Set<number>();
  for (const p of needs.ports) {
    if (taken.has(p) || seen.has(p)) return 'PORTS';
    seen.add(p);
  }
  const seenUdp = new Set<number>();
  for (const p of needs.portsUdp) {
    if (takenUdp.has(p) || seenUdp.has(p)) return 'PORTS';
    seenUdp.add(p);
  }
  return undefined;
}

function unique(xs: readonly number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}
