import { isBuiltInCapacityProvider, isExpiredProvider } from '../model/capacity-provider.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { capacityProviderKeys } from './capacity-provider-keys.js';
import { hostGroupKeys } from './host-group-keys.js';
import { parseCapacityProvider, type CapacityProviderRecord } from './records/capacity-providers.js';
import { isTerminating, parseHostGroup } from './records/host-groups.js';

/**
 * What placement needs to know of a capacity provider of an Auto Scaling group: which container instances are
 * its group's. berth's host groups launch each host's agent as the group's instance id (`ec2InstanceId`), so a
 * container instance belongs to a provider when its ec2InstanceId is one of the group's live instances.
 */

export type ProviderReader = Pick<Tx, 'getRecord'>;

export const storeReader = (store: Store): ProviderReader => ({ getRecord: (parse, key) => readRecord(store, parse, key) });

/** The ACTIVE provider `name` of an Auto Scaling group, or undefined (built-in, unknown or deleted). */
export async function activeGroupProvider(reader: ProviderReader, name: string): Promise<CapacityProviderRecord | undefined> {
  if (isBuiltInCapacityProvider(name)) return undefined;
  const record = await reader.getRecord(parseCapacityProvider, capacityProviderKeys.provider(name));
  return record?.status === 'ACTIVE' ? record : undefined;
}

/** The EC2 instance ids of the provider's group that are not being terminated (empty when the group is gone). */
export async function groupInstanceIds(reader: ProviderReader, provider: CapacityProviderRecord): Promise<Set<string>> {
  const group = await reader.getRecord(parseHostGroup, hostGroupKeys.group(provider.autoScalingGroupProvider.groupName));
  return new Set((group?.instances ?? []).filter((i) => !isTerminating(i.lifecycleState)).map((i) => i.instanceId));
}

/**
 * In the transaction that removes host group `groupName`: the provider of that group (if any) goes INACTIVE, as
 * ECS shows a capacity provider whose Auto Scaling group was deleted — updateStatus DELETE_COMPLETE with the reason —
 * and the group's claim is released. It stays describable as a deleted provider (api/ecs/capacity-providers.ts) until
 * pruned; strategies naming it are refused from then on (not ACTIVE), and its waiting tasks time out.
 */
export async function retireGroupProviderInTx(tx: Tx, groupName: string, nowMs: number): Promise<void> {
  const claim = await tx.get(capacityProviderKeys.byGroup(groupName));
  if (!claim) return;
  tx.delete(capacityProviderKeys.byGroup(groupName));
  const record = await tx.getRecord(parseCapacityProvider, capacityProviderKeys.provider(claim.value));
  if (record?.status !== 'ACTIVE') return;
  tx.putJson(capacityProviderKeys.provider(record.name), {
    ...record,
    status: 'INACTIVE',
    updateStatus: 'DELETE_COMPLETE',
    updateStatusReason: `The Auto Scaling group ${groupName} of the capacity provider was deleted.`,
    deletedAt: nowMs,
  } satisfies CapacityProviderRecord);
}

/** Remove the records of deleted providers past their retention (on the leader); how many went. */
export async function pruneExpiredProviders(store: Store, nowMs: number): Promise<number> {
  let removed = 0;
  const { entries } = await store.range(capacityProviderKeys.providers());
  for (const e of entries) {
    if (!isExpiredProvider(parseCapacityProvider(e.value, e.key), nowMs)) continue;
    // Re-read in the transaction: a CreateCapacityProvider of the same name meanwhile makes it ACTIVE again.
    removed += await transact(store, async (tx) => {
      const record = await tx.getRecord(parseCapacityProvider, e.key);
      if (!record || !isExpiredProvider(record, nowMs)) return 0;
      tx.delete(e.key);
      return 1;
    });
  }
  return removed;
}
