import type { PlacementConstraint as EcsConstraint, PlacementStrategy as EcsStrategy, TaskDefinition } from '@aws-sdk/client-ecs';
import { invalidParameter } from '../model/errors.js';
import type { Wire } from '../model/wire.js';
import {
  checkPlacementRequest,
  MAX_PLACEMENT_CONSTRAINTS,
  PlacementRequestError,
  type PlacementConstraint,
  type PlacementRequest,
  type PlacementStrategy,
  type RequiredAttribute,
} from '../scheduler/index.js';

/**
 * The one translation from ECS's placement shapes (task definitions, RunTask, services) to the scheduler's
 * request. RunTask, CreateService/UpdateService and the service controller all go through it, so a field
 * ECS adds is mapped once.
 */

export function constraintsOf(constraints: readonly Wire<EcsConstraint>[] = []): PlacementConstraint[] {
  return constraints.map((c) => ({
    type: c.type as PlacementConstraint['type'],
    ...(c.expression !== undefined ? { expression: c.expression } : {}),
  }));
}

export function strategiesOf(strategies: readonly Wire<EcsStrategy>[] = []): PlacementStrategy[] {
  return strategies.map((s) => ({ type: s.type as PlacementStrategy['type'], ...(s.field !== undefined ? { field: s.field } : {}) }));
}

/** The attributes an instance must have for the task definition (its requiresAttributes). */
export function requiredAttributesOf(td: Wire<TaskDefinition>): RequiredAttribute[] {
  return (td.requiresAttributes ?? []).map((a) => ({ name: a.name!, ...(a.value !== undefined ? { value: a.value } : {}) }));
}

/**
 * The placement request for `count` tasks of `td`: the task definition's constraints and the caller's (at most
 * 10 together), the caller's strategies, and the task definition's requiresAttributes. Checked here, so a
 * malformed expression is an InvalidParameterException before anything is written.
 */
export function placementRequestOf(
  td: Wire<TaskDefinition>,
  base: Pick<PlacementRequest, 'count' | 'needs' | 'group'>,
  constraints: readonly Wire<EcsConstraint>[] = [],
  strategies: readonly Wire<EcsStrategy>[] = [],
): PlacementRequest {
  const all = [...(td.placementConstraints ?? []), ...constraints];
  if (all.length > MAX_PLACEMENT_CONSTRAINTS) {
    throw invalidParameter(
      `A task can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints (task definition and request together); this one has ${all.length}.`,
    );
  }
  const request: PlacementRequest = {
    ...base,
    constraints: constraintsOf(all),
    strategies: strategiesOf(strategies),
    requiredAttributes: requiredAttributesOf(td),
  };
  try {
    checkPlacementRequest(request);
  } catch (error) {
    if (error instanceof PlacementRequestError) throw invalidParameter(error.message);
    throw error;
  }
  return request;
}
