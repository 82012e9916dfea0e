import type { CapacityProviderStrategyItem, TaskDefinition } from '@aws-sdk/client-ecs';
import { isBuiltInCapacityProvider } from '../../model/capacity-provider.js';
import { checkStrategy } from '../../model/capacity-strategy.js';
import { builtInCapacityProviders, type ClusterRecord } from '../../model/cluster.js';
import { invalidParameter } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { activeGroupProvider, storeReader } from '../../state/capacity-providers.js';
import type { EcsEnv } from './env.js';

/**
 * A service's capacity provider strategy (CreateService, UpdateService): its own, else — with no launch type — the
 * cluster's default when that names providers of host groups. Checked as RunTask's; services run on host groups'
 * providers only (berth's services do not run on Fargate yet), with the ECS deployment controller and REPLICA
 * scheduling, as ECS allows strategies. Undefined: the service runs with the EC2 launch type.
 */
export async function serviceStrategyOf(
  env: EcsEnv,
  input: { launchType?: string; capacityProviderStrategy?: readonly CapacityProviderStrategyItem[]; schedulingStrategy?: string },
  cluster: ClusterRecord,
  td: Wire<TaskDefinition> | undefined,
  controller: string,
): Promise<CapacityProviderStrategyItem[] | undefined> {
  const own = input.capacityProviderStrategy ?? [];
  if (input.launchType && own.length > 0) {
    throw invalidParameter('Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  }
  const fallback = !input.launchType && cluster.defaultCapacityProviderStrategy.every((i) => !isBuiltInCapacityProvider(i.capacityProvider ?? ''));
  const strategy = own.length > 0 ? own : fallback ? cluster.defaultCapacityProviderStrategy : [];
  if (strategy.length === 0) return undefined;
  if (strategy.every((i) => isBuiltInCapacityProvider(i.capacityProvider ?? ''))) {
    throw invalidParameter('capacityProviderStrategy: berth runs services on capacity providers of Auto Scaling groups; FARGATE and FARGATE_SPOT services are not available yet.');
  }
  const providers = [...new Set([...cluster.capacityProviders, ...builtInCapacityProviders])];
  checkStrategy(strategy, { clusterProviders: providers, isFargate: isBuiltInCapacityProvider });
  if (input.schedulingStrategy === 'DAEMON') throw invalidParameter('capacityProviderStrategy: a capacity provider strategy cannot be used with the DAEMON scheduling strategy.');
  if (controller !== 'ECS') throw invalidParameter(`capacityProviderStrategy: with the ${controller} deployment controller, each task set has its own strategy.`);
  for (const item of strategy) {
    if (!(await activeGroupProvider(storeReader(env.store), item.capacityProvider ?? ''))) {
      throw invalidParameter(`The capacity provider '${item.capacityProvider}' is not ACTIVE: only ACTIVE capacity providers can be used.`);
    }
  }
  if (td?.compatibilities && !td.compatibilities.includes('EC2')) throw invalidParameter('Task definition does not support launch_type EC2.');
  return strategy.map((i) => ({ ...i }));
}

/** A deployment (or service) shape with the strategy in place of its launch type, when there is one. */
export function withCapacity<T extends { launchType?: string }>(d: T, strategy: CapacityProviderStrategyItem[] | undefined): T | (Omit<T, 'launchType'> & { capacityProviderStrategy: CapacityProviderStrategyItem[] }) {
  if (!strategy) return d;
  const { launchType: _launchType, ...rest } = d;
  return { ...rest, capacityProviderStrategy: strategy };
}
