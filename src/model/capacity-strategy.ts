import type { CapacityProviderStrategyItem } from '@aws-sdk/client-ecs';
import { invalidParameter } from './errors.js';

/**
 * Capacity provider strategies (RunTask, CreateService, UpdateService, a cluster's default): which providers a
 * call's tasks go to. Pure: the caller says which providers the cluster has and which are Fargate's.
 *
 * ECS's rule: `base` (at most one item may set it) is how many tasks, at a minimum, run on that provider, filled
 * first; then every further task goes by `weight`, the relative share of the tasks launched ("weight 1 for A and
 * 4 for B: for every one task on A, four on B"). A provider of weight 0 takes no task beyond its base.
 */

export interface StrategyItem {
  readonly capacityProvider: string;
  readonly base: number;
  readonly weight: number;
}

/** The strategy with ECS's defaults filled in (base 0, weight 0). */
export function normalizeStrategy(items: readonly CapacityProviderStrategyItem[]): StrategyItem[] {
  return items.map((i) => ({ capacityProvider: i.capacityProvider ?? '', base: i.base ?? 0, weight: i.weight ?? 0 }));
}

/**
 * How many of `count` new tasks each provider gets, given the tasks each already has (a service's running and
 * waiting tasks; nothing for RunTask). Each task in turn: to the base provider while it is below its base, else to
 * the provider furthest below its weighted share of the tasks beyond bases — the lowest (tasks beyond base + 1) /
 * weight, the first in the strategy on a tie. So a call's tasks and a service's tasks over time split alike.
 */
export function splitByStrategy(
  strategy: readonly StrategyItem[],
  count: number,
  existing: ReadonlyMap<string, number> = new Map(),
): Map<string, number> {
  const have = new Map(strategy.map((s) => [s.capacityProvider, existing.get(s.capacityProvider) ?? 0]));
  const added = new Map(strategy.map((s) => [s.capacityProvider, 0]));
  const weighted = strategy.filter((s) => s.weight > 0);
  for (let n = 0; n < count; n++) {
    const underBase = strategy.find((s) => s.base > 0 && have.get(s.capacityProvider)! < s.base);
    let chosen = underBase;
    if (!chosen) {
      let best = Infinity;
      for (const s of weighted) {
        const beyond = Math.max(0, have.get(s.capacityProvider)! - s.base);
        const score = (beyond + 1) / s.weight;
        if (score < best) {
          best = score;
          chosen = s;
        }
      }
    }
    if (!chosen) break;
    have.set(chosen.capacityProvider, have.get(chosen.capacityProvider)! + 1);
    added.set(chosen.capacityProvider, added.get(chosen.capacityProvider)! + 1);
  }
  for (const [name, n] of added) if (n === 0) added.delete(name);
  return added;
}

/** ECS's refusal of a strategy naming a provider the cluster does not have. */
export const NOT_ASSOCIATED =
  'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.';

/** What a strategy is checked against: the cluster's providers, and which of all providers are Fargate's. */
export interface StrategyContext {
  readonly clusterProviders: readonly string[];
  readonly isFargate: (name: string) => boolean;
}

/** The field named in messages: `capacityProviderStrategy` or `defaultCapacityProviderStrategy`. */
export function checkStrategy(items: readonly CapacityProviderStrategyItem[], ctx: StrategyContext, field = 'capacityProviderStrategy'): StrategyItem[] {
  const strategy = normalizeStrategy(items);
  if (strategy.length > 20) throw invalidParameter(`${field} can have at most 20 capacity providers.`);
  const seen = new Set<string>();
  for (const s of strategy) {
    if (seen.has(s.capacityProvider)) throw invalidParameter(`${field}: the capacity provider '${s.capacityProvider}' is listed more than once.`);
    seen.add(s.capacityProvider);
    if (s.base < 0 || s.base > 100_000) throw invalidParameter(`${field}: base must be between 0 and 100000.`);
    if (s.weight < 0 || s.weight > 1000) throw invalidParameter(`${field}: weight must be between 0 and 1000.`);
    if (!ctx.clusterProviders.includes(s.capacityProvider)) {
      throw invalidParameter(NOT_ASSOCIATED);
    }
  }
  if (strategy.filter((s) => s.base > 0).length > 1) throw invalidParameter(`${field}: only one capacity provider in a strategy can have a base defined.`);
  if (strategy.length > 0 && !strategy.some((s) => s.weight > 0)) {
    throw invalidParameter(`${field}: at least one capacity provider must have a weight greater than zero.`);
  }
  const fargate = strategy.filter((s) => ctx.isFargate(s.capacityProvider)).length;
  if (fargate > 0 && fargate < strategy.length) {
    throw invalidParameter(
      'The specified capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again.',
    );
  }
  return strategy;
}
