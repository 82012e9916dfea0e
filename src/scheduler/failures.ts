import type { ClusterState } from './cluster-state.js';
import { failureMessage, rejectionOf, type PlacementFailureReason, type Rejection } from './rejections.js';

/** Why one task could not be placed. */
export interface TaskPlacementFailure {
  readonly reason: PlacementFailureReason;
  /** The instance that came closest: it passed the most checks of the pipeline. */
  readonly closestInstance?: { readonly id: string; readonly arn: string } | undefined;
  /** "no container instance met all of its requirements. The closest matching (container-instance …) …" */
  readonly message: string;
}

/** One entry of RunTask's `failures`: an instance and why it was turned down. */
export interface InstanceFailure {
  readonly arn: string;
  readonly reason: Rejection;
}

/**
 * Explain why no instance can take the next task: the closest instance (turned down furthest along the
 * pipeline; among those turned down for CPU or memory, the one with the most of it left; then input order)
 * and every ACTIVE instance's reason, as ECS lists them in RunTask's response.
 */
export function explainFailure(state: ClusterState): { failure: TaskPlacementFailure; instanceFailures: InstanceFailure[] } {
  const instanceFailures: InstanceFailure[] = [];
  let closest = -1;
  for (let i = 0; i < state.size; i++) {
    const code = state.rejection[i]!;
    instanceFailures.push({ arn: state.instances[i]!.arn, reason: rejectionOf(code) });
    if (closest < 0 || closer(state, i, closest)) closest = i;
  }
  if (closest < 0) return { failure: { reason: 'NO_INSTANCES', message: failureMessage('NO_INSTANCES') }, instanceFailures };
  const reason = rejectionOf(state.rejection[closest]!);
  const s = state.instances[closest]!;
  return {
    failure: { reason, closestInstance: { id: s.id, arn: s.arn }, message: failureMessage(reason, s.id, detailOf(state, closest, reason)) },
    instanceFailures,
  };
}

function closer(state: ClusterState, a: number, b: number): boolean {
  const [ra, rb] = [state.rejection[a]!, state.rejection[b]!];
  if (ra !== rb) return ra > rb;
  const reason = rejectionOf(ra);
  if (reason === 'RESOURCE:CPU') return state.cpu[a]! > state.cpu[b]!;
  if (reason === 'RESOURCE:MEMORY') return state.memory[a]! > state.memory[b]!;
  return false;
}

function detailOf(state: ClusterState, i: number, reason: Rejection): string | undefined {
  switch (reason) {
    case 'ATTRIBUTE':
      return state.missingAttribute(i);
    case 'MemberOf placement constraint unsatisfied.': {
      const failing = state.failingMemberOf(i);
      return failing ? `memberOf: ${failing.expression}` : undefined;
    }
    case 'DistinctInstance placement constraint unsatisfied.':
      return 'distinctInstance: it already runs a task of this group';
    default:
      return undefined;
  }
}
