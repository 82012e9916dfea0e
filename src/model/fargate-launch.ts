import type { CapacityProviderStrategyItem, PlacementConstraint, PlacementStrategy, TaskDefinition } from '@aws-sdk/client-ecs';
import { invalidParameter, ServiceError } from './errors.js';
import {
  FARGATE_DEFAULT_EPHEMERAL_GIB,
  FARGATE_LATEST_PLATFORM,
  FARGATE_PLATFORM_VERSIONS,
  FARGATE_PROVIDERS,
  type FargateProvider,
} from './fargate-pool.js';
import type { Wire } from './wire.js';

/** What a Fargate task records beyond an EC2 one (DescribeTasks shows it). */
export interface FargateLaunch {
  readonly capacityProviderName: FargateProvider;
  readonly platformVersion: string;
  readonly platformFamily: 'Linux';
  readonly ephemeralStorageGiB: number;
}

/** The launch-related fields of RunTask (and, without the strategy, StartTask). */
export interface LaunchChoice {
  readonly launchType?: string;
  readonly capacityProviderStrategy?: readonly CapacityProviderStrategyItem[];
  readonly platformVersion?: string;
  readonly placementConstraints?: readonly PlacementConstraint[];
  readonly placementStrategy?: readonly PlacementStrategy[];
}

/**
 * Which launch a request asks for: undefined for EC2 (or EXTERNAL), a {@link FargateLaunch} for `launchType:
 * FARGATE` or a strategy of FARGATE/FARGATE_SPOT. Refuses, with ECS's words, what Fargate refuses. Pure.
 *
 * A strategy naming both providers runs the whole call on one of them: the provider with a `base`, else the
 * one with the highest weight (ECS splits a call's tasks between them; berth does not yet).
 */
export function fargateLaunchOf(input: LaunchChoice, td: Wire<TaskDefinition>): FargateLaunch | undefined {
  const strategy = input.capacityProviderStrategy ?? [];
  if (input.launchType && strategy.length > 0) {
    throw invalidParameter('Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  }
  const provider = input.launchType === 'FARGATE' ? 'FARGATE' : strategy.length > 0 ? providerOf(strategy) : undefined;
  if (provider === undefined) {
    if (input.launchType && input.launchType !== 'EC2' && input.launchType !== 'EXTERNAL') {
      throw invalidParameter(`launchType: '${input.launchType}' is not a launch type (EC2, FARGATE, EXTERNAL).`);
    }
    return undefined;
  }
  if (!td.compatibilities?.includes('FARGATE')) throw invalidParameter('Task definition does not support launch_type FARGATE.');
  if (input.placementConstraints?.length) throw invalidParameter('Placement constraints are not supported with the FARGATE launch type.');
  if (input.placementStrategy?.length) throw invalidParameter('Placement strategies are not supported with the FARGATE launch type.');
  const version = input.platformVersion ?? 'LATEST';
  if (!(FARGATE_PLATFORM_VERSIONS as readonly string[]).includes(version)) {
    throw new ServiceError('PlatformUnknownException', `The specified platform version (${version}) does not exist. Linux platform versions: LATEST, 1.4.0.`);
  }
  return fargateLaunchFor(provider, td);
}

/** What a task of `td` on `provider` records (a checked launch: RunTask's, a service's). */
export function fargateLaunchFor(provider: FargateProvider, td: Wire<TaskDefinition>): FargateLaunch {
  return {
    capacityProviderName: provider,
    platformVersion: FARGATE_LATEST_PLATFORM,
    platformFamily: 'Linux',
    ephemeralStorageGiB: td.ephemeralStorage?.sizeInGiB ?? FARGATE_DEFAULT_EPHEMERAL_GIB,
  };
}

function providerOf(strategy: readonly CapacityProviderStrategyItem[]): FargateProvider {
  for (const item of strategy) {
    if (!(FARGATE_PROVIDERS as readonly string[]).includes(item.capacityProvider ?? '')) {
      throw invalidParameter(
        `capacityProviderStrategy: the capacity provider '${item.capacityProvider ?? ''}' is not associated with the cluster; berth's clusters have FARGATE and FARGATE_SPOT.`,
      );
    }
  }
  if (strategy.filter((i) => (i.base ?? 0) > 0).length > 1) {
    throw invalidParameter('capacityProviderStrategy: only one capacity provider in a strategy can have a base defined.');
  }
  if (!strategy.some((i) => (i.weight ?? 0) > 0 || (i.base ?? 0) > 0)) {
    throw invalidParameter('capacityProviderStrategy: at least one capacity provider must have a weight greater than zero.');
  }
  const based = strategy.find((i) => (i.base ?? 0) > 0);
  const chosen = based ?? [...strategy].sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0))[0]!;
  return chosen.capacityProvider as FargateProvider;
}
