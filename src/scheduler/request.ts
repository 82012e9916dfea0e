import type { TaskNeeds } from '../model/task.js';
import { compileCql, type CompiledCql } from './cql/compile.js';
import { PlacementRequestError } from './errors.js';

export const placementConstraintTypes = ['distinctInstance', 'memberOf'] as const;
export type PlacementConstraintType = (typeof placementConstraintTypes)[number];

/** A binding rule: memberOf keeps instances its Cluster Query Language expression selects. */
export interface PlacementConstraint {
  readonly type: PlacementConstraintType;
  /** Required for memberOf, refused for distinctInstance. */
  readonly expression?: string | undefined;
}

export const placementStrategyTypes = ['binpack', 'spread', 'random'] as const;
export type PlacementStrategyType = (typeof placementStrategyTypes)[number];

/**
 * A best-effort preference. binpack: field cpu | memory. spread: field instanceId | host | attribute:<name>.
 * random: no field.
 */
export interface PlacementStrategy {
  readonly type: PlacementStrategyType;
  readonly field?: string | undefined;
}

/** A task definition's requiresAttributes entry: the instance must have the attribute (with this value, if given). */
export interface RequiredAttribute {
  readonly name: string;
  readonly value?: string | undefined;
}

/** What to place: `count` tasks alike. */
export interface PlacementRequest {
  readonly count: number;
  /** What one task reserves. */
  readonly needs: TaskNeeds;
  /** The group the tasks join: spread and distinctInstance balance against the tasks of this group. */
  readonly group: string;
  /** The task definition's and the request's constraints together; all must hold. */
  readonly constraints?: readonly PlacementConstraint[] | undefined;
  /** Applied in order; ties under one go to the next. None means random. */
  readonly strategies?: readonly PlacementStrategy[] | undefined;
  readonly requiredAttributes?: readonly RequiredAttribute[] | undefined;
}

export const AVAILABILITY_ZONE_ATTRIBUTE = 'ecs.availability-zone';

/** What a service places with when it names no strategy: spread across Availability Zones. */
export const DEFAULT_SERVICE_PLACEMENT_STRATEGY: readonly PlacementStrategy[] = Object.freeze([
  Object.freeze({ type: 'spread', field: `attribute:${AVAILABILITY_ZONE_ATTRIBUTE}` }),
]);

/** ECS's limits: constraints per task (task definition and request together), strategies per request. */
export const MAX_PLACEMENT_CONSTRAINTS = 10;
export const MAX_PLACEMENT_STRATEGIES = 5;

/** A strategy in the form ranking works with. */
export type Ranking =
  | { readonly kind: 'binpack'; readonly resource: 'cpu' | 'memory' }
  | { readonly kind: 'spread-instance' }
  | { readonly kind: 'spread-attribute'; readonly name: string }
  | { readonly kind: 'random' };

/** A request checked and compiled: expressions parsed once, fields resolved. */
export interface PreparedRequest {
  readonly count: number;
  readonly needs: TaskNeeds;
  readonly group: string;
  readonly memberOf: readonly CompiledCql[];
  readonly distinctInstance: boolean;
  readonly rankings: readonly Ranking[];
  readonly requiredAttributes: readonly RequiredAttribute[];
}

/**
 * Check a request and compile its expressions.
 * @throws CqlSyntaxError for an expression that does not parse; PlacementRequestError for anything else invalid.
 */
export function preparePlacement(request: PlacementRequest): PreparedRequest {
  if (!Number.isInteger(request.count) || request.count < 0) throw new PlacementRequestError('count must be a whole number of tasks, 0 or more.');
  const constraints = request.constraints ?? [];
  if (constraints.length > MAX_PLACEMENT_CONSTRAINTS) {
    throw new PlacementRequestError(`A task can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints (task definition and request together); this one has ${constraints.length}.`);
  }
  const memberOf: CompiledCql[] = [];
  let distinctInstance = false;
  for (const c of constraints) {
    if (c.type === 'distinctInstance') {
      if (c.expression) throw new PlacementRequestError('A distinctInstance placement constraint cannot have an expression.');
      distinctInstance = true;
    } else if (c.type === 'memberOf') {
      if (!c.expression) throw new PlacementRequestError('A memberOf placement constraint needs an expression.');
      memberOf.push(compileCql(c.expression));
    } else {
      throw new PlacementRequestError(`Unknown placement constraint type '${String((c as { type: unknown }).type)}'; expected distinctInstance or memberOf.`);
    }
  }
  const strategies = request.strategies ?? [];
  return {
    count: request.count,
    needs: request.needs,
    group: request.group,
    memberOf,
    distinctInstance,
    rankings: rankingsOf(strategies),
    requiredAttributes: request.requiredAttributes ?? [],
  };
}

/**
 * Check a request without placing (for the API to refuse a bad one before doing anything else).
 * @throws as {@link preparePlacement}.
 */
export function checkPlacementRequest(request: PlacementRequest): void {
  preparePlacement(request);
}

/**
 * Strategies in the form ranking works with.
 * @throws PlacementRequestError for more than {@link MAX_PLACEMENT_STRATEGIES}, an unknown type or a bad field.
 */
export function rankingsOf(strategies: readonly PlacementStrategy[]): Ranking[] {
  if (strategies.length > MAX_PLACEMENT_STRATEGIES) {
    throw new PlacementRequestError(`A request can have at most ${MAX_PLACEMENT_STRATEGIES} placement strategies; this one has ${strategies.length}.`);
  }
  return strategies.map(rankingOf);
}

/** Field keywords are matched without regard to case (CPU, memory, instanceId); attribute names exactly. */
function rankingOf(s: PlacementStrategy): Ranking {
  const field = s.field ?? '';
  switch (s.type) {
    case 'binpack': {
      const resource = field.toLowerCase();
      if (resource === 'cpu' || resource === 'memory') return { kind: 'binpack', resource };
      throw new PlacementRequestError(`The binpack placement strategy needs the field cpu or memory, not '${field}'.`);
    }
    case 'spread': {
      const lower = field.toLowerCase();
      if (lower === 'instanceid' || lower === 'host') return { kind: 'spread-instance' };
      if (lower.startsWith('attribute:') && field.length > 'attribute:'.length) return { kind: 'spread-attribute', name: field.slice('attribute:'.length) };
      throw new PlacementRequestError(`The spread placement strategy needs the field instanceId, host or attribute:<name>, not '${field}'.`);
    }
    case 'random':
      // ECS ignores a field on random.
      return { kind: 'random' };
    default:
      throw new PlacementRequestError(`Unknown placement strategy type '${String((s as { type: unknown }).type)}'; expected binpack, spread or random.`);
  }
}
