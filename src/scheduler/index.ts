/**
 * The placement engine: pure functions from a snapshot of container instances and a request to placements or
 * the reasons there are none. No I/O, no clock; deterministic for a seed. See docs/architecture.md (Placement).
 */
export { place, type PlaceOptions, type PlacementResult } from './place.js';
export { chooseTasksToStop, type StopCandidate } from './scale-in.js';
export type { InstanceSnapshot, TaskSummary } from './snapshot.js';
export {
  AVAILABILITY_ZONE_ATTRIBUTE,
  DEFAULT_SERVICE_PLACEMENT_STRATEGY,
  MAX_PLACEMENT_CONSTRAINTS,
  MAX_PLACEMENT_STRATEGIES,
  checkPlacementRequest,
  placementConstraintTypes,
  placementStrategyTypes,
  type PlacementConstraint,
  type PlacementConstraintType,
  type PlacementRequest,
  type PlacementStrategy,
  type PlacementStrategyType,
  type RequiredAttribute,
} from './request.js';
export type { InstanceFailure, TaskPlacementFailure } from './failures.js';
export { rejections, type PlacementFailureReason, type Rejection } from './rejections.js';
export { CqlSyntaxError, PlacementRequestError, type CqlErrorDetails } from './errors.js';
export { compileCql, parseCql, type CompiledCql } from './cql/compile.js';
export { MAX_CQL_EXPRESSION_LENGTH } from './cql/parse.js';
export { cqlView, type CqlInstanceView } from './cql/instance-view.js';
export type { CqlComparison, CqlExpression, CqlOperator, CqlSubject, CqlValue } from './cql/ast.js';
export { seededRandom, type Random } from './rng.js';
