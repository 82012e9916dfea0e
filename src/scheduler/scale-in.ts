import type { TaskNeeds } from '../model/task.js';
import { rankingsOf, type PlacementStrategy, type Ranking } from './request.js';
import { randomFrom, type Random } from './rng.js';
import type { InstanceSnapshot } from './snapshot.js';

/** A running task a service could stop. */
export interface StopCandidate {
  readonly taskId: string;
  /** The container instance id it runs on. */
  readonly instanceId: string;
  /** What it reserves; binpack counts it as freed when the task stops. Zero when absent. */
  readonly needs?: TaskNeeds | undefined;
}

/**
 * Which tasks a service stops first when it scales in, `count` of them in stop order, following its placement
 * strategies as ECS does: spread stops from the most loaded value (the attribute value, or the instance, with
 * the most of these tasks), binpack stops the task whose instance would have the most of the resource left
 * afterwards, random picks at random; ties under one strategy go to the next, then to a seeded random order.
 * Counts are updated after each choice, so stopping several keeps the spread balanced.
 *
 * Before any strategy, tasks on instances that are gone from the snapshot or not ACTIVE (DRAINING…) go first:
 * they are leaving anyway.
 *
 * @param candidates the service's tasks that may be stopped (they are also what spread balances).
 * @throws PlacementRequestError for invalid strategies.
 */
export function chooseTasksToStop(
  instances: readonly InstanceSnapshot[],
  candidates: readonly StopCandidate[],
  count: number,
  strategies: readonly PlacementStrategy[],
  seedOrRandom: number | Random = 0,
): string[] {
  const random = randomFrom(seedOrRandom);
  const rankings = chainUntilRandom(rankingsOf(strategies));
  const byId = new Map(instances.map((i) => [i.id, i]));
  const rows = candidates.map((c, index) => {
    const instance = byId.get(c.instanceId);
    return { c, index, instance, leaving: instance?.status !== 'ACTIVE', rank: random() };
  });

  // Tallies that change as tasks are chosen: candidates per instance and per attribute value; resources freed.
  const perInstance = tally(rows.map((r) => r.c.instanceId));
  const perValue = new Map<string, Map<string | undefined, number>>();
  for (const r of rankings) {
    if (r.kind === 'spread-attribute' && !perValue.has(r.name)) perValue.set(r.name, tally(rows.map((row) => row.instance?.attributes.get(r.name))));
  }
  const freed = new Map<string, { cpu: number; memory: number }>();

  /** Higher stops first. */
  const key = (row: (typeof rows)[number], r: Exclude<Ranking, { kind: 'random' }>): number => {
    switch (r.kind) {
      case 'spread-instance':
        return perInstance.get(row.c.instanceId)!;
      case 'spread-attribute':
        return perValue.get(r.name)!.get(row.instance?.attributes.get(r.name))!;
      case 'binpack': {
        if (!row.instance) return Infinity;
        const already = freed.get(row.c.instanceId)?.[r.resource] ?? 0;
        return row.instance.remaining[r.resource] + already + (row.c.needs?.[r.resource] ?? 0);
      }
    }
  };
  const before = (a: (typeof rows)[number], b: (typeof rows)[number]): boolean => {
    if (a.leaving !== b.leaving) return a.leaving;
    for (const r of rankings) {
      const [x, y] = [key(a, r), key(b, r)];
      if (x !== y) return x > y;
    }
    if (a.rank !== b.rank) return a.rank < b.rank;
    return a.index < b.index;
  };

  const chosen: string[] = [];
  const left = [...rows];
  while (chosen.length < count && left.length > 0) {
    let best = 0;
    for (let k = 1; k < left.length; k++) if (before(left[k]!, left[best]!)) best = k;
    const row = left.splice(best, 1)[0]!;
    chosen.push(row.c.taskId);
    perInstance.set(row.c.instanceId, perInstance.get(row.c.instanceId)! - 1);
    for (const [name, counts] of perValue) {
      const v = row.instance?.attributes.get(name);
      counts.set(v, counts.get(v)! - 1);
    }
    const f = freed.get(row.c.instanceId) ?? { cpu: 0, memory: 0 };
    freed.set(row.c.instanceId, { cpu: f.cpu + (row.c.needs?.cpu ?? 0), memory: f.memory + (row.c.needs?.memory ?? 0) });
  }
  return chosen;
}

/** The strategies up to the first random one: random never ties, so it is the final seeded order. */
function chainUntilRandom(rankings: readonly Ranking[]): Exclude<Ranking, { kind: 'random' }>[] {
  const out: Exclude<Ranking, { kind: 'random' }>[] = [];
  for (const r of rankings) {
    if (r.kind === 'random') break;
    out.push(r);
  }
  return out;
}

function tally<K>(keys: readonly K[]): Map<K, number> {
  const m = new Map<K, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}
