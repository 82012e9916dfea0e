import type {
  CreateCapacityProviderRequest,
  DeleteCapacityProviderRequest,
  DescribeCapacityProvidersRequest,
  UpdateCapacityProviderRequest,
} from '@aws-sdk/client-ecs';
import { ecsArn, parseOwnEcsArn } from '../../model/arn.js';
import {
  capacityProviderWire,
  checkAgainstGroup,
  checkProviderName,
  groupNameOf,
  isBuiltInCapacityProvider,
  isExpiredProvider,
  newAutoScalingGroupProvider,
  updatedAutoScalingGroupProvider,
  type CapacityProviderRecord,
} from '../../model/capacity-provider.js';
import { builtInCapacityProviders, type ClusterRecord } from '../../model/cluster.js';
import { clientError, invalidParameter, ServiceError } from '../../model/errors.js';
import { validateTags } from '../../model/tags.js';
import { capacityProviderKeys } from '../../state/capacity-provider-keys.js';
import { hostGroupKeys } from '../../state/host-group-keys.js';
import { keys } from '../../state/keys.js';
import { parseCapacityProvider } from '../../state/records/capacity-providers.js';
import { parseClusterRecord } from '../../state/records/clusters.js';
import { parseHostGroup } from '../../state/records/host-groups.js';
import { parseServiceRecord } from '../../state/records/services.js';
import type { Store } from '../../store/store.js';
import { readRecord, transact } from '../../store/transact.js';
import { pageOfList } from '../pagination.js';
import type { EcsEnv } from './env.js';

/**
 * Capacity providers: ECS's built-in FARGATE and FARGATE_SPOT, which every account has and clusters may name, and
 * providers of Auto Scaling groups — berth's host groups (src/hostgroups) — made with CreateCapacityProvider. A
 * group serves one provider; a provider a cluster uses cannot be deleted. Placement on a provider's group and
 * the waiting of tasks that do not fit are in state/capacity-waits.ts.
 */

/** A capacity provider's name from a name or an ARN of this region and account. */
export function providerName(env: EcsEnv, ref: string): string {
  return ref.startsWith('arn:') ? (parseOwnEcsArn(env.scope, ref, 'capacity-provider') ?? ref) : ref;
}

export const isBuiltIn = isBuiltInCapacityProvider;

const notFound = (ref: string) => clientError(`The specified capacity provider '${ref}' does not exist.`);

async function allProviders(store: Store): Promise<CapacityProviderRecord[]> {
  const { entries } = await store.range(capacityProviderKeys.providers());
  return entries.map((e) => parseCapacityProvider(e.value, e.key));
}

async function activeClusters(store: Store): Promise<ClusterRecord[]> {
  const { entries } = await store.range(keys.clusters());
  return entries.map((e) => parseClusterRecord(e.value, e.key)).filter((c) => c.status === 'ACTIVE');
}

export function capacityProviderOperations(env: EcsEnv) {
  const describeBuiltIn = (name: string, withTags: boolean) => ({
    capacityProviderArn: ecsArn(env.scope, 'capacity-provider', name),
    name,
    status: 'ACTIVE',
    ...(withTags ? { tags: [] } : {}),
  });
  const shown = (r: CapacityProviderRecord) => !isExpiredProvider(r, env.now());

  return {
    async DescribeCapacityProviders(input: DescribeCapacityProvidersRequest) {
      const refs = input.capacityProviders;
      if (refs !== undefined && refs.length > 100) throw invalidParameter('capacityProviders can list at most 100 capacity providers.');
      const withTags = input.include?.includes('TAGS') ?? false;
      const found = [];
      const failures = [];
      if (refs === undefined || refs.length === 0) {
        for (const name of builtInCapacityProviders) found.push(describeBuiltIn(name, withTags));
        for (const r of await allProviders(env.store)) if (shown(r)) found.push(capacityProviderWire(r, withTags));
      } else {
        for (const ref of refs) {
          const name = providerName(env, ref);
          const record = isBuiltIn(name) ? undefined : await readRecord(env.store, parseCapacityProvider, capacityProviderKeys.provider(name));
          if (isBuiltIn(name)) found.push(describeBuiltIn(name, withTags));
          else if (record && shown(record)) found.push(capacityProviderWire(record, withTags));
          else failures.push({ arn: ref.startsWith('arn:') ? ref : ecsArn(env.scope, 'capacity-provider', ref), reason: 'MISSING' });
        }
      }
      const page = pageOfList(found, input, { defaultSize: 10, maxSize: 10 });
      return { capacityProviders: page.items, failures, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async CreateCapacityProvider(input: CreateCapacityProviderRequest) {
      const name = checkProviderName(input.name);
      if (input.managedInstancesProvider) {
        throw new ServiceError('UnsupportedFeatureException', 'Amazon ECS Managed Instances capacity providers are not available in this Region.');
      }
      if (input.cluster !== undefined) throw invalidParameter('cluster: only Amazon ECS Managed Instances capacity providers belong to a cluster.');
      const given = input.autoScalingGroupProvider;
      if (!given?.autoScalingGroupArn) throw invalidParameter("Missing required parameter 'autoScalingGroupProvider.autoScalingGroupArn'.");
      const tags = validateTags(input.tags);
      const groupName = groupNameOf(given.autoScalingGroupArn);
      const record = await transact(env.store, async (tx) => {
        const existing = await tx.getRecord(parseCapacityProvider, capacityProviderKeys.provider(name));
        if (existing && existing.status !== 'INACTIVE') {
          throw clientError('The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.');
        }
        const group = groupName === undefined ? undefined : await tx.getRecord(parseHostGroup, hostGroupKeys.group(groupName));
        if (!group || group.deleting || (given.autoScalingGroupArn!.startsWith('arn:') && group.arn !== given.autoScalingGroupArn)) {
          throw clientError(`The specified Auto Scaling group '${given.autoScalingGroupArn}' does not exist. Create it first (CreateAutoScalingGroup).`);
        }
        const claimedBy = await tx.get(capacityProviderKeys.byGroup(group.name));
        if (claimedBy) {
          throw clientError(
            `The specified Auto Scaling group is already in use by the capacity provider '${claimedBy.value}'. An Auto Scaling group can be used by one capacity provider only.`,
          );
        }
        const asg = newAutoScalingGroupProvider(given, group);
        checkAgainstGroup(asg, group);
        const created: CapacityProviderRecord = {
          name,
          capacityProviderArn: ecsArn(env.scope, 'capacity-provider', name),
          status: 'ACTIVE',
          autoScalingGroupProvider: asg,
          tags,
          createdAt: env.now(),
        };
        tx.putJson(capacityProviderKeys.provider(name), created);
        tx.put(capacityProviderKeys.byGroup(group.name), name);
        return created;
      });
      return { capacityProvider: capacityProviderWire(record, true) };
    },

    async UpdateCapacityProvider(input: UpdateCapacityProviderRequest) {
      const name = providerName(env, input.name ?? '');
      if (isBuiltIn(name)) throw clientError(`The ${name} capacity provider is reserved and cannot be updated.`);
      if (input.managedInstancesProvider) {
        throw new ServiceError('UnsupportedFeatureException', 'Amazon ECS Managed Instances capacity providers are not available in this Region.');
      }
      const given = input.autoScalingGroupProvider;
      if (!given) throw invalidParameter("Missing required parameter 'autoScalingGroupProvider'.");
      const record = await transact(env.store, async (tx) => {
        const current = await tx.getRecord(parseCapacityProvider, capacityProviderKeys.provider(name));
        if (!current || current.status !== 'ACTIVE') throw notFound(input.name ?? '');
        const asg = updatedAutoScalingGroupProvider(current.autoScalingGroupProvider, given);
        const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(asg.groupName));
        if (group) checkAgainstGroup(asg, group);
        const updated: CapacityProviderRecord = { ...current, autoScalingGroupProvider: asg, updateStatus: 'UPDATE_COMPLETE' };
        tx.putJson(capacityProviderKeys.provider(name), updated);
        return updated;
      });
      return { capacityProvider: capacityProviderWire(record, false) };
    },

    /** Refused while a cluster has it (PutClusterCapacityProviders takes it off) or a service's strategy names it. */
    async DeleteCapacityProvider(input: DeleteCapacityProviderRequest) {
      const ref = input.capacityProvider ?? '';
      const name = providerName(env, ref);
      if (isBuiltIn(name)) throw clientError(`The ${name} capacity provider is reserved and cannot be deleted.`);
      const record = await transact(env.store, async (tx) => {
        const current = await tx.getRecord(parseCapacityProvider, capacityProviderKeys.provider(name));
        if (!current || current.status !== 'ACTIVE') throw notFound(ref);
        // PutClusterCapacityProviders and CreateCluster rewrite this record when they add the provider, so a
        // cluster taking it meanwhile makes this transaction conflict and look again.
        const user = (await activeClusters(env.store)).find((c) => c.capacityProviders.includes(name));
        if (user) {
          throw clientError(
            `The capacity provider cannot be deleted because it is associated with cluster: ${user.clusterName}. Remove the capacity provider from the cluster and try again.`,
          );
        }
        const { entries } = await env.store.range(keys.services());
        for (const e of entries) {
          const s = parseServiceRecord(e.value, e.key);
          if (s.status !== 'INACTIVE' && s.capacityProviderStrategy?.some((i) => i.capacityProvider === name)) {
            throw clientError(
              `The capacity provider cannot be deleted because it is in use by service: ${s.serviceName}. Remove the capacity provider from the service's capacity provider strategy and try again.`,
            );
          }
        }
        const deleted: CapacityProviderRecord = { ...current, status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE', deletedAt: env.now() };
        tx.putJson(capacityProviderKeys.provider(name), deleted);
        tx.delete(capacityProviderKeys.byGroup(current.autoScalingGroupProvider.groupName));
        return deleted;
      });
      return { capacityProvider: capacityProviderWire(record, false) };
    },
  };
}
