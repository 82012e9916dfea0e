import { ClusterState } from './cluster-state.js';
import { explainFailure, type InstanceFailure, type TaskPlacementFailure } from './failures.js';
import { Ranker } from './ranking.js';
import { preparePlacement, type PlacementRequest } from './request.js';
import { randomFrom, type Random } from './rng.js';
import { IndexedSelector, ScanSelector, type Selector } from './selectors.js';
import type { InstanceSnapshot } from './snapshot.js';

export interface PlacementResult {
  /** The instance id of each task placed, in placement order. */
  readonly placements: readonly string[];
  /** One entry per task that could not be placed (count − placements.length of them, all alike). */
  readonly failures: readonly TaskPlacementFailure[];
  /**
   * When some task could not be placed: each ACTIVE instance with the reason it was turned down for that task
   * (RunTask's `failures`: arn and reason). Empty when every task was placed.
   */
  readonly instanceFailures: readonly InstanceFailure[];
}

export interface PlaceOptions {
  /**
   * How the best instance is found. `auto` (the default) uses the heap index whenever the strategies allow and a
   * scan otherwise; the others force one, for tests and benchmarks. All give the same placements.
   */
  readonly selection?: 'auto' | 'indexed' | 'scan';
}

/**
 * Place `request.count` tasks on the instances of a snapshot.
 *
 * A pipeline per task: feasibility filters (ACTIVE, agent connected, required attributes, CPU, memory, ports,
 * memberOf, distinctInstance — see cluster-state.ts), then the request's strategies in order as a
 * lexicographic ranking (binpack: least remaining; spread: fewest tasks of the group on the instance or
 * attribute value; random), ties going to a per-instance random key (an exponential clock advanced whenever
 * the instance receives a task, so picks among tied instances are uniform). Each task sees the ones placed before it. Pure and deterministic for the same snapshot
 * (same order) and seed; `seedOrRandom` may be a seed or a generator such as Math.random.
 *
 * @throws CqlSyntaxError or PlacementRequestError when the request itself is invalid.
 */
export function place(
  instances: readonly InstanceSnapshot[],
  request: PlacementRequest,
  seedOrRandom: number | Random,
  options: PlaceOptions = {},
): PlacementResult {
  const prepared = preparePlacement(request);
  const state = new ClusterState(instances, prepared, randomFrom(seedOrRandom));
  const ranker = new Ranker(state, prepared.rankings);
  const selection = options.selection ?? 'auto';
  if (selection === 'indexed' && !IndexedSelector.serves(ranker)) {
    throw new Error('The indexed selection cannot serve strategies that spread by an attribute after another strategy.');
  }
  const selector: Selector =
    selection === 'scan' || !IndexedSelector.serves(ranker) ? new ScanSelector(state, ranker) : new IndexedSelector(state, ranker);

  const placements: string[] = [];
  for (let n = 0; n < prepared.count; n++) {
    const i = selector.best();
    if (i < 0) {
      const { failure, instanceFailures } = explainFailure(state);
      return { placements, failures: Array.from({ length: prepared.count - n }, () => failure), instanceFailures };
    }
    placements.push(state.instances[i]!.id);
    ranker.placed(i);
    state.place(i);
    selector.changed(i);
  }
  return { placements, failures: [], instanceFailures: [] };
}
