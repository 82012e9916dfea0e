import type { Attribute } from '@aws-sdk/client-ecs';

/**
 * berth's Fargate: each cluster's FARGATE and FARGATE_SPOT capacity is a pool of hosts whose agents run with
 * `--fargate` (BERTH_FARGATE). The pool is scoped per cluster (an agent registers to one cluster). A pool host
 * registers with this attribute; the control plane then
 *
 * - places only FARGATE tasks on it, and never an EC2 task (placement sees two disjoint sets of instances);
 * - leaves it out of ListContainerInstances and DescribeContainerInstances, and StartTask cannot name it:
 *   Fargate's hosts are not the customer's container instances;
 * - and its agent runs every task under gVisor (runsc).
 */
export const FARGATE_POOL_ATTRIBUTE = 'berth.fargate-pool';

export function isFargatePoolHost(attributes: readonly Attribute[] | undefined): boolean {
  return attributes?.some((a) => a.name === FARGATE_POOL_ATTRIBUTE) ?? false;
}

export const FARGATE_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'] as const;
export type FargateProvider = (typeof FARGATE_PROVIDERS)[number];

/** Platform versions RunTask takes for Fargate on Linux: LATEST is 1.4.0, the only one berth offers. */
export const FARGATE_PLATFORM_VERSIONS = ['LATEST', '1.4.0'] as const;
export const FARGATE_LATEST_PLATFORM = '1.4.0';
/** Ephemeral storage a Fargate task gets when its task definition asks for none (GiB). */
export const FARGATE_DEFAULT_EPHEMERAL_GIB = 20;
