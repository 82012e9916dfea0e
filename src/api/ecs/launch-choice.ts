import type { CapacityProviderStrategyItem, RunTaskRequest, TaskDefinition } from '@aws-sdk/client-ecs';
import { isBuiltInCapacityProvider } from '../../model/capacity-provider.js';
import { checkStrategy, type StrategyItem } from '../../model/capacity-strategy.js';
import { builtInCapacityProviders, type ClusterRecord } from '../../model/cluster.js';
import { invalidParameter } from '../../model/errors.js';
import { fargateLaunchOf, fargateStrategyOf, type FargateLaunch } from '../../model/fargate-launch.js';
import type { Wire } from '../../model/wire.js';
import { activeGroupProvider, type ProviderReader } from '../../state/capacity-providers.js';

/**
 * Where a RunTask's (or a service's) tasks go: EC2 (a launch type, or nothing and no default strategy), Fargate
 * (`launchType: FARGATE`, or a strategy of FARGATE/FARGATE_SPOT), or capacity providers of Auto Scaling groups (a
 * strategy naming them). With neither a launch type nor a strategy, the cluster's default strategy is used, as ECS
 * does. Every berth cluster has FARGATE and FARGATE_SPOT, listed or not (the Fargate pool is shared).
 */
export type LaunchChoiceResult =
  | { readonly kind: 'ec2' }
  | { readonly kind: 'fargate'; readonly fargate: FargateLaunch; readonly strategy: readonly StrategyItem[] }
  | { readonly kind: 'providers'; readonly strategy: readonly StrategyItem[] };

/** The strategy a call runs with: its own, else (no launch type) the cluster's default. */
export function effectiveStrategy(
  input: { launchType?: string; capacityProviderStrategy?: readonly CapacityProviderStrategyItem[] },
  cluster: ClusterRecord,
): readonly CapacityProviderStrategyItem[] {
  const own = input.capacityProviderStrategy ?? [];
  if (own.length > 0 || input.launchType) return own;
  return cluster.defaultCapacityProviderStrategy;
}

export async function launchChoiceOf(
  reader: ProviderReader,
  input: RunTaskRequest,
  cluster: ClusterRecord,
  td: Wire<TaskDefinition>,
): Promise<LaunchChoiceResult> {
  const strategy = effectiveStrategy(input, cluster);
  if (input.launchType && strategy.length > 0) {
    throw invalidParameter('Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  }
  // Fargate's own path and messages (model/fargate-launch.ts) when the strategy names only FARGATE/FARGATE_SPOT.
  if (strategy.every((i) => isBuiltInCapacityProvider(i.capacityProvider ?? ''))) {
    const fargate = fargateLaunchOf({ ...input, capacityProviderStrategy: strategy }, td);
    return fargate ? { kind: 'fargate', fargate, strategy: fargateStrategyOf({ ...input, capacityProviderStrategy: strategy }) } : { kind: 'ec2' };
  }
  const providers = [...new Set([...cluster.capacityProviders, ...builtInCapacityProviders])];
  const checked = checkStrategy(strategy, { clusterProviders: providers, isFargate: isBuiltInCapacityProvider });
  for (const item of checked) {
    if (!(await activeGroupProvider(reader, item.capacityProvider))) {
      throw invalidParameter(`The capacity provider '${item.capacityProvider}' is not ACTIVE: only ACTIVE capacity providers can be used.`);
    }
  }
  if (td.compatibilities && !td.compatibilities.includes('EC2')) throw invalidParameter('Task definition does not support launch_type EC2.');
  return { kind: 'providers', strategy: checked };
}
