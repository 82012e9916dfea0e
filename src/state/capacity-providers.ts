import { isBuiltInCapacityProvider } from '../model/capacity-provider.js';
import type { Store } from '../store/store.js';
import { readRecord, type Tx } from '../store/transact.js';
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
