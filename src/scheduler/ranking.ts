import type { ClusterState } from './cluster-state.js';
import type { Ranking } from './request.js';

/**
 * One step of the ranking chain, lower first. An instance key is the instance's own number (remaining CPU or
 * memory for binpack, its tasks of the group for spread by instance, its random key); a value key is the
 * count of the group's tasks on every instance sharing the instance's value of an attribute (spread by
 * attribute), so placing on one instance moves all instances with that value.
 */
export type RankLevel =
  | { readonly kind: 'instance'; readonly key: Float64Array }
  | { readonly kind: 'value'; readonly attribute: string; readonly valueOf: Int32Array; readonly counts: Float64Array };

/**
 * The strategies of a request as a lexicographic order over instances: each strategy in turn, ties going to
 * the next, then the per-instance random key, then input order so the order is total. `random` ends the
 * chain (its keys do not tie, so nothing after it could matter).
 */
export class Ranker {
  readonly levels: readonly RankLevel[];

  constructor(
    private readonly state: ClusterState,
    rankings: readonly Ranking[],
  ) {
    const levels: RankLevel[] = [];
    for (const r of rankings) {
      if (r.kind === 'random') break;
      levels.push(this.levelOf(r));
    }
    levels.push({ kind: 'instance', key: state.rank });
    this.levels = levels;
  }

  /** Negative when instance `a` ranks before `b`. */
  compare(a: number, b: number, fromLevel = 0): number {
    const levels = this.levels;
    for (let l = fromLevel; l < levels.length; l++) {
      const level = levels[l]!;
      let x: number;
      let y: number;
      if (level.kind === 'instance') {
        x = level.key[a]!;
        y = level.key[b]!;
      } else {
        x = level.counts[level.valueOf[a]!]!;
        y = level.counts[level.valueOf[b]!]!;
      }
      if (x !== y) return x < y ? -1 : 1;
    }
    return a - b;
  }

  /** Count one more task of the group on instance `i` under every attribute it is spread by. */
  placed(i: number): void {
    for (const level of this.levels) if (level.kind === 'value') level.counts[level.valueOf[i]!]! += 1;
  }

  private levelOf(r: Exclude<Ranking, { kind: 'random' }>): RankLevel {
    const s = this.state;
    switch (r.kind) {
      case 'binpack':
        return { kind: 'instance', key: r.resource === 'cpu' ? s.cpu : s.memory };
      case 'spread-instance':
        return { kind: 'instance', key: s.groupTasks };
      case 'spread-attribute':
        return valueLevel(s, r.name);
    }
  }
}

/**
 * Group the instances by their value of `attribute` (instances without it form one more group) and count the
 * group's tasks per value. Tasks on every ACTIVE instance count, whether or not it can take more.
 */
function valueLevel(s: ClusterState, attribute: string): RankLevel {
  const ids = new Map<string | undefined, number>();
  const valueOf = new Int32Array(s.size);
  for (let i = 0; i < s.size; i++) {
    const v = s.instances[i]!.attributes.get(attribute);
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = ids.size));
    valueOf[i] = id;
  }
  const counts = new Float64Array(ids.size);
  for (let i = 0; i < s.size; i++) counts[valueOf[i]!]! += s.groupTasks[i]!;
  return { kind: 'value', attribute, valueOf, counts };
}
