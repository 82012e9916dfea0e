import type { CapacityProviderStrategyItem, LaunchType, PlacementConstraint, PlacementStrategy, TaskDefinition } from '@aws-sdk/client-ecs';
import { isBuiltInCapacityProvider } from '../../model/capacity-provider.js';
import { checkStrategy } from '../../model/capacity-strategy.js';
import { builtInCapacityProviders, type ClusterRecord } from '../../model/cluster.js';
import { clientError, invalidParameter } from '../../model/errors.js';
import { fargateLaunchOf } from '../../model/fargate-launch.js';
import { FARGATE_LATEST_PLATFORM, FARGATE_PLATFORM_VERSIONS } from '../../model/fargate-pool.js';
import { ServiceError } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { activeGroupProvider, storeReader } from '../../state/capacity-providers.js';
import type { EcsEnv } from './env.js';

/**
 * Where a service's tasks run (CreateService, UpdateService, CreateTaskSet), as ECS decides it: a launch type (EC2 or
 * FARGATE), or a capacity provider strategy — its own, else with no launch type the cluster's default — of
 * FARGATE/FARGATE_SPOT (Fargate) or of providers of Auto Scaling groups (host groups), never both kinds. Fargate
 * services take what Fargate RunTask takes (model/fargate-launch.ts: an awsvpc FARGATE task definition, no placement
 * constraints or strategies, platform LATEST or 1.4.0) and REPLICA scheduling only.
 *
 * What it yields is written on the service (platformVersion as asked, LATEST by default) and on its deployment or
 * task set (platformVersion resolved, as ECS shows it: 1.4.0).
 */
export interface ServiceLaunch {
  /** EC2 or FARGATE (the wire's type, so a stored service is one). */
  readonly launchType?: LaunchType;
  readonly capacityProviderStrategy?: CapacityProviderStrategyItem[];
  readonly platformVersion?: string;
  readonly platformFamily?: string;
}

export interface LaunchInput {
  readonly launchType?: string;
  readonly capacityProviderStrategy?: readonly CapacityProviderStrategyItem[];
  readonly platformVersion?: string;
  readonly placementConstraints?: readonly PlacementConstraint[];
  readonly placementStrategy?: readonly PlacementStrategy[];
  readonly schedulingStrategy?: string;
}

/** A launch runs on Fargate: launch type FARGATE, or a strategy of FARGATE/FARGATE_SPOT. */
export function isFargateLaunch(l: { launchType?: string; capacityProviderStrategy?: readonly CapacityProviderStrategyItem[] }): boolean {
  const strategy = l.capacityProviderStrategy ?? [];
  return l.launchType === 'FARGATE' || (strategy.length > 0 && strategy.every((i) => isBuiltInCapacityProvider(i.capacityProvider ?? '')));
}

/** ECS's answer to a platform version on a launch that is not Fargate's. */
const platformNotNull = () => invalidParameter('The platform version must be null when specifying an EC2 launch type.');

export async function serviceLaunchOf(
  env: EcsEnv,
  input: LaunchInput,
  cluster: ClusterRecord,
  td: Wire<TaskDefinition> | undefined,
  controller: string,
): Promise<ServiceLaunch> {
  const own = input.capacityProviderStrategy ?? [];
  if (input.launchType && own.length > 0) {
    throw invalidParameter('Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  }
  if (input.launchType !== undefined && input.launchType !== 'EC2' && input.launchType !== 'FARGATE') {
    throw invalidParameter(`launchType: berth runs services with the EC2 or FARGATE launch type (or a capacity provider strategy), not ${input.launchType}.`);
  }
  const strategy = own.length > 0 ? own : input.launchType ? [] : cluster.defaultCapacityProviderStrategy;
  if (strategy.length === 0 && input.launchType !== 'FARGATE') {
    if (input.platformVersion) throw platformNotNull();
    requireCompatible(td, 'EC2');
    return { launchType: 'EC2' };
  }
  const providers = [...new Set([...cluster.capacityProviders, ...builtInCapacityProviders])];
  const checked = strategy.length > 0 ? checkStrategy(strategy, { clusterProviders: providers, isFargate: isBuiltInCapacityProvider }) : [];
  const items = checked.map((i) => ({ capacityProvider: i.capacityProvider, base: i.base, weight: i.weight }));
  if (input.schedulingStrategy === 'DAEMON') {
    throw invalidParameter(
      input.launchType === 'FARGATE' || isFargateLaunch({ capacityProviderStrategy: items })
        ? 'The DAEMON scheduling strategy is not supported with the FARGATE launch type.'
        : 'capacityProviderStrategy: a capacity provider strategy cannot be used with the DAEMON scheduling strategy.',
    );
  }
  if (input.launchType === 'FARGATE' || isFargateLaunch({ capacityProviderStrategy: items })) {
    const version = input.platformVersion ?? 'LATEST';
    if (input.placementConstraints?.length) throw invalidParameter('Placement constraints are not supported with the FARGATE launch type.');
    if (input.placementStrategy?.length) throw invalidParameter('Placement strategies are not supported with the FARGATE launch type.');
    if (td) {
      fargateLaunchOf({ ...input, launchType: input.launchType, capacityProviderStrategy: items }, td);
    } else if (!(FARGATE_PLATFORM_VERSIONS as readonly string[]).includes(version)) {
      throw new ServiceError('PlatformUnknownException', `The specified platform version (${version}) does not exist. Linux platform versions: LATEST, 1.4.0.`);
    }
    return { ...(items.length > 0 ? { capacityProviderStrategy: items } : { launchType: 'FARGATE' }), platformVersion: version, platformFamily: 'Linux' };
  }
  if (input.platformVersion) throw platformNotNull();
  if (controller !== 'ECS') throw invalidParameter(`capacityProviderStrategy: with the ${controller} deployment controller, each task set has its own strategy.`);
  for (const item of items) {
    if (!(await activeGroupProvider(storeReader(env.store), item.capacityProvider))) {
      throw invalidParameter(`The capacity provider '${item.capacityProvider}' is not ACTIVE: only ACTIVE capacity providers can be used.`);
    }
  }
  requireCompatible(td, 'EC2');
  return { capacityProviderStrategy: items };
}

/** A task definition a launch of `kind` may run (ECS's messages). */
export function requireCompatible(td: Wire<TaskDefinition> | undefined, kind: 'EC2' | 'FARGATE'): void {
  if (!td) return;
  const required = td.requiresCompatibilities ?? [];
  if ((required.length > 0 && !required.includes(kind)) || (td.compatibilities && !td.compatibilities.includes(kind))) {
    if (kind === 'FARGATE') throw invalidParameter('Task definition does not support launch_type FARGATE.');
    throw clientError(`Task definition does not support launch_type EC2: taskDefinition ${td.taskDefinitionArn} requires ${required.join(', ')}.`);
  }
}

/**
 * UpdateService's launch: a `capacityProviderStrategy` given switches the service (an empty list goes back to a
 * launch type: FARGATE from Fargate's providers, EC2 from host groups'); as ECS, a switch from a launch type to a
 * strategy, or any change of strategy, needs `forceNewDeployment`. A new platform version or task definition is
 * checked against the launch the service keeps. Undefined: the launch is unchanged.
 */
export async function updatedServiceLaunch(
  env: EcsEnv,
  input: LaunchInput & { forceNewDeployment?: boolean; taskDefinition?: string },
  current: ServiceLaunch & {
    schedulingStrategy?: string;
    deploymentController?: { type?: string };
    placementConstraints?: PlacementConstraint[];
    placementStrategy?: PlacementStrategy[];
  },
  cluster: ClusterRecord,
  td: Wire<TaskDefinition> | undefined,
): Promise<ServiceLaunch | undefined> {
  const given = input.capacityProviderStrategy;
  const controller = current.deploymentController?.type ?? 'ECS';
  const base = {
    schedulingStrategy: current.schedulingStrategy ?? 'REPLICA',
    placementConstraints: input.placementConstraints ?? current.placementConstraints ?? [],
    placementStrategy: input.placementStrategy ?? current.placementStrategy ?? [],
  };
  if (given !== undefined) {
    const before = JSON.stringify(current.capacityProviderStrategy ?? []);
    const changed = JSON.stringify(given.map((i) => ({ capacityProvider: i.capacityProvider, base: i.base ?? 0, weight: i.weight ?? 0 }))) !== before;
    if (changed && !input.forceNewDeployment) {
      throw invalidParameter(
        'When switching from launch type to capacity provider strategy on an existing service, or making a change to a capacity provider strategy on a service that is already using one, you must force a new deployment.',
      );
    }
    const launchType = given.length === 0 ? (isFargateLaunch(current) ? 'FARGATE' : 'EC2') : undefined;
    return serviceLaunchOf(
      env,
      { ...base, ...(launchType ? { launchType } : { capacityProviderStrategy: given }), platformVersion: input.platformVersion ?? (isFargateLaunch(current) ? current.platformVersion : undefined) },
      cluster,
      td,
      controller,
    );
  }
  if (input.platformVersion === undefined && !td && !input.placementConstraints?.length && !input.placementStrategy?.length) return undefined;
  const fargate = isFargateLaunch(current);
  if (!fargate) {
    if (input.platformVersion) throw platformNotNull();
    requireCompatible(td, 'EC2');
    return undefined;
  }
  return serviceLaunchOf(
    env,
    { ...base, ...(current.launchType ? { launchType: current.launchType } : { capacityProviderStrategy: current.capacityProviderStrategy ?? [] }), platformVersion: input.platformVersion ?? current.platformVersion },
    cluster,
    td,
    controller,
  );
}

/** A deployment's (or task set's) launch fields from the service's launch: the platform version resolved. */
export function deploymentLaunch(launch: ServiceLaunch): ServiceLaunch {
  return launch.platformVersion ? { ...launch, platformVersion: FARGATE_LATEST_PLATFORM } : launch;
}

/** A deployment (or service) shape with `launch` in place of its launch fields. */
export function withLaunch<T extends object>(d: T, launch: ServiceLaunch): Omit<T, keyof ServiceLaunch> & ServiceLaunch {
  const { launchType: _l, capacityProviderStrategy: _c, platformVersion: _p, platformFamily: _f, ...rest } = d as T & ServiceLaunch;
  return { ...(rest as Omit<T, keyof ServiceLaunch>), ...launch };
}

/** The launch fields a service (or deployment) has now. */
export function launchFieldsOf(s: ServiceLaunch): ServiceLaunch {
  return {
    ...(s.launchType ? { launchType: s.launchType } : {}),
    ...(s.capacityProviderStrategy?.length ? { capacityProviderStrategy: s.capacityProviderStrategy } : {}),
    ...(s.platformVersion ? { platformVersion: s.platformVersion } : {}),
    ...(s.platformFamily ? { platformFamily: s.platformFamily } : {}),
  };
}
