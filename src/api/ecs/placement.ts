import type { PlacementConstraint as EcsConstraint, PlacementStrategy as EcsStrategy, TaskDefinition } from '@aws-sdk/client-ecs';
import { invalidParameter } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import {
  checkPlacementRequest,
  compileCql,
  CqlSyntaxError,
  MAX_PLACEMENT_CONSTRAINTS,
  PlacementRequestError,
  type PlacementRequest,
} from '../../scheduler/index.js';

export { cqlView } from '../../scheduler/index.js';

/** Compile a CQL expression for the API, turning syntax errors into InvalidParameterException. */
export function compileFilter(expression: string, field: string) {
  try {
    return compileCql(expression);
  } catch (error) {
    if (error instanceof CqlSyntaxError || error instanceof PlacementRequestError) throw invalidParameter(`${field}: ${error.message}`);
    throw error;
  }
}

/**
 * The placement request for RunTask/StartTask/services: the task definition's constraints and the
 * request's (at most 10 together), its strategies, and the task definition's requiresAttributes.
 * Checked here, so a malformed expression is an InvalidParameterException before anything is written.
 */
export function placementRequestOf(
  td: Wire<TaskDefinition>,
  base: Pick<PlacementRequest, 'count' | 'needs' | 'group'>,
  constraints: readonly EcsConstraint[] = [],
  strategies: readonly EcsStrategy[] = [],
): PlacementRequest {
  const all = [...(td.placementConstraints ?? []), ...constraints];
  if (all.length > MAX_PLACEMENT_CONSTRAINTS) {
    throw invalidParameter(
      `A task can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints (task definition and request together); this one has ${all.length}.`,
    );
  }
  const request: PlacementRequest = {
    ...base,
    constraints: all.map((c) => ({ type: c.type as 'memberOf' | 'distinctInstance', ...(c.expression !== undefined ? { expression: c.expression } : {}) })),
    strategies: strategies.map((s) => ({ type: s.type as 'binpack' | 'spread' | 'random', ...(s.field !== undefined ? { field: s.field } : {}) })),
    requiredAttributes: (td.requiresAttributes ?? []).map((a) => ({ name: a.name!, ...(a.value !== undefined ? { value: a.value } : {}) })),
  };
  try {
    checkPlacementRequest(request);
  } catch (error) {
    if (error instanceof PlacementRequestError) throw invalidParameter(error.message);
    throw error;
  }
  return request;
}
