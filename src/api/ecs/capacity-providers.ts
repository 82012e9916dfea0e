import type {
  CreateCapacityProviderRequest,
  DeleteCapacityProviderRequest,
  DescribeCapacityProvidersRequest,
  UpdateCapacityProviderRequest,
} from '@aws-sdk/client-ecs';
import { ecsArn, parseOwnEcsArn } from '../../model/arn.js';
import { builtInCapacityProviders } from '../../model/cluster.js';
import { clientError, invalidParameter, ServiceError } from '../../model/errors.js';
import { pageOfList } from '../pagination.js';
import type { EcsEnv } from './env.js';

/** A capacity provider's name from a name or an ARN of this region and account. */
function providerName(env: EcsEnv, ref: string): string {
  return ref.startsWith('arn:') ? (parseOwnEcsArn(env.scope, ref, 'capacity-provider') ?? ref) : ref;
}

const isBuiltIn = (name: string) => (builtInCapacityProviders as readonly string[]).includes(name);

/**
 * Capacity providers as berth has them today: only ECS's built-in FARGATE and FARGATE_SPOT, which every
 * account has and clusters may name (CreateCluster, PutClusterCapacityProviders). Providers of Auto Scaling
 * groups or Managed Instances, managed scaling and the Fargate launch type itself are issue 17; until then
 * CreateCapacityProvider answers UnsupportedFeatureException, and Update/Delete find no provider of the
 * name (the built-in ones are reserved, as in ECS).
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

    async CreateCapacityProvider(input: CreateCapacityProviderRequest) {
      if (input.name && (isBuiltIn(input.name) || /^(aws|ecs|fargate)/i.test(input.name))) {
        throw invalidParameter(`The capacity provider name '${input.name}' is reserved: names cannot begin with aws, ecs or fargate.`);
      }
      throw new ServiceError(
        'UnsupportedFeatureException',
        'Capacity providers for Auto Scaling groups and Amazon ECS Managed Instances are not available in this Region; only FARGATE and FARGATE_SPOT exist.',
      );
    },

    async UpdateCapacityProvider(input: UpdateCapacityProviderRequest) {
      const name = providerName(env, input.name!);
      if (isBuiltIn(name)) throw clientError(`The ${name} capacity provider is reserved and cannot be updated.`);
      throw clientError(`The specified capacity provider '${input.name}' does not exist.`);
    },

    async DeleteCapacityProvider(input: DeleteCapacityProviderRequest) {
      const name = providerName(env, input.capacityProvider!);
      if (isBuiltIn(name)) throw clientError(`The ${name} capacity provider is reserved and cannot be deleted.`);
      throw clientError(`The specified capacity provider '${input.capacityProvider}' does not exist.`);
    },
  };
}
