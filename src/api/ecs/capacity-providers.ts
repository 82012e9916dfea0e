import type { DescribeCapacityProvidersRequest } from '@aws-sdk/client-ecs';
import { ecsArn, parseOwnEcsArn } from '../../model/arn.js';
import { builtInCapacityProviders } from '../../model/cluster.js';
import { invalidParameter } from '../../model/errors.js';
import { pageOfList } from '../pagination.js';
import type { EcsEnv } from './env.js';

/** A capacity provider's name from a name or an ARN of this region and account. */
export function providerName(env: EcsEnv, ref: string): string {
  return ref.startsWith('arn:') ? (parseOwnEcsArn(env.scope, ref, 'capacity-provider') ?? ref) : ref;
}

export const isBuiltIn = (name: string) => (builtInCapacityProviders as readonly string[]).includes(name);

/**
 * Capacity providers as berth has them today: only ECS's built-in FARGATE and FARGATE_SPOT, which every
 * account has and clusters may name (CreateCluster, PutClusterCapacityProviders). Providers of Auto Scaling
 * groups or Managed Instances, managed scaling and the Fargate launch type itself are issue 17; until then
 * Create/Update/DeleteCapacityProvider only refuse (`not-available.ts`).
 */
export function capacityProviderOperations(env: EcsEnv) {
  const describeBuiltIn = (name: string, withTags: boolean) => ({
    capacityProviderArn: ecsArn(env.scope, 'capacity-provider', name),
    name,
    status: 'ACTIVE',
    ...(withTags ? { tags: [] } : {}),
  });

  return {
    async DescribeCapacityProviders(input: DescribeCapacityProvidersRequest) {
      const refs = input.capacityProviders;
      if (refs !== undefined && refs.length > 100) throw invalidParameter('capacityProviders can list at most 100 capacity providers.');
      const found = [];
      const failures = [];
      for (const ref of refs ?? builtInCapacityProviders) {
        const name = providerName(env, ref);
        if (isBuiltIn(name)) found.push(describeBuiltIn(name, input.include?.includes('TAGS') ?? false));
        else failures.push({ arn: ref.startsWith('arn:') ? ref : ecsArn(env.scope, 'capacity-provider', ref), reason: 'MISSING' });
      }
      const page = pageOfList(found, input, { defaultSize: 10, maxSize: 10 });
      return { capacityProviders: page.items, failures, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },
  };
}
