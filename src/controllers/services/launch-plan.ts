import type { CapacityProviderStrategyItem, Service } from '@aws-sdk/client-ecs';
import { isBuiltInCapacityProvider } from '../../model/capacity-provider.js';
import { normalizeStrategy, splitByStrategy, type StrategyItem } from '../../model/capacity-strategy.js';
import type { Wire } from '../../model/wire.js';
import { place } from '../../scheduler/index.js';
import { requestFor } from './placement.js';
import type { ProviderLaunchPlan, ServiceState, TaskDefinitionFacts, TaskView } from './state.js';

/**
 * Where a deployment's (or task set's) new tasks go, pure: the cluster's container instances (EC2), the cluster's
 * Fargate pool (launch type FARGATE, or a strategy of FARGATE/FARGATE_SPOT), or the hosts of host groups' capacity
 * providers. A strategy's tasks are split base-then-weight counting the tasks each provider already has
 * (model/capacity-strategy.ts), so a service's tasks over time split as one RunTask's would.
 */
export type LaunchKind =
  | { readonly kind: 'ec2' }
  | { readonly kind: 'fargate'; readonly strategy: readonly StrategyItem[] }
  | { readonly kind: 'providers'; readonly strategy: readonly StrategyItem[] };

export function launchKindOf(d: { launchType?: string; capacityProviderStrategy?: readonly CapacityProviderStrategyItem[] }): LaunchKind {
  const strategy = normalizeStrategy(d.capacityProviderStrategy ?? []);
  if (d.launchType === 'FARGATE') return { kind: 'fargate', strategy: [{ capacityProvider: 'FARGATE', base: 0, weight: 1 }] };
  if (strategy.length === 0) return { kind: 'ec2' };
  return strategy.every((s) => isBuiltInCapacityProvider(s.capacityProvider)) ? { kind: 'fargate', strategy } : { kind: 'providers', strategy };
}

/** Tasks each capacity provider has among `views` (for the split). */
export function tasksByProvider(views: readonly TaskView[]): Map<string, number> {
  const have = new Map<string, number>();
  for (const v of views) {
    const p = v.record.task.capacityProviderName;
    if (p) have.set(p, (have.get(p) ?? 0) + 1);
  }
  return have;
}

export interface LaunchesPlanned {
  /** EC2: instances to start tasks on. */
  readonly launches: string[];
  /** Fargate and host groups' providers: the tasks of each provider. */
  readonly providerLaunches: ProviderLaunchPlan[];
  /** Why some task found no place (an "unable to place" event); a host group's tasks wait instead. */
  readonly failure?: string;
}

/** `count` new tasks of `facts` for `launch`, given the tasks each provider already has. */
export function planLaunches(
  state: ServiceState,
  service: Wire<Service>,
  facts: TaskDefinitionFacts,
  launch: LaunchKind,
  count: number,
  have: ReadonlyMap<string, number>,
): LaunchesPlanned {
  if (launch.kind === 'ec2') {
    const result = place(state.instances, requestFor(service, facts, count), state.seed);
    return { launches: [...result.placements], providerLaunches: [], ...(result.failures.length > 0 ? { failure: result.failures[0]!.message } : {}) };
  }
  const split = splitByStrategy(launch.strategy, count, have);
  if (launch.kind === 'fargate') {
    // One placement over the pool for all of them (so shares do not count the same room twice), handed out in order.
    const pool = state.fargatePool ?? [];
    const result = place(pool, requestFor(service, facts, count), state.seed);
    const placements = [...result.placements];
    const providerLaunches = [...split].map(([provider, n]) => ({ provider, instanceIds: placements.splice(0, n), waiting: 0 }));
    const short = result.placements.length < count;
    const failure = !short
      ? undefined
      : pool.some((s) => s.status === 'ACTIVE')
        ? result.failures[0]?.message ?? 'the Fargate pool has no room for it.'
        : "the cluster's Fargate pool has no hosts (join one with `berth agent --fargate`).";
    return { launches: [], providerLaunches: providerLaunches.filter((l) => l.instanceIds.length > 0), ...(failure ? { failure } : {}) };
  }
  // Host groups' providers: each share placed on its group's hosts, the rest waiting for room there.
  const providerLaunches: ProviderLaunchPlan[] = [];
  for (const [provider, n] of split) {
    const hosts = state.providerHosts?.get(provider) ?? new Set<string>();
    const instances = state.instances.filter((i) => i.ec2InstanceId !== undefined && hosts.has(i.ec2InstanceId));
    const result = place(instances, requestFor(service, facts, n), state.seed);
    providerLaunches.push({ provider, instanceIds: result.placements, waiting: n - result.placements.length });
  }
  return { launches: [], providerLaunches };
}
