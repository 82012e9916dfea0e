import type { Attachment, CapacityProviderStrategyItem } from '@aws-sdk/client-ecs';
import { createHash } from 'node:crypto';
import { isBuiltInCapacityProvider } from '../../model/capacity-provider.js';
import { checkStrategy } from '../../model/capacity-strategy.js';
import type { ClusterRecord } from '../../model/cluster.js';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { capacityProviderKeys } from '../../state/capacity-provider-keys.js';
import { activeGroupProvider } from '../../state/capacity-providers.js';
import { keys } from '../../state/keys.js';
import { parseCapacityProvider } from '../../state/records/capacity-providers.js';
import { parseServiceRecord } from '../../state/records/services.js';
import { parseTaskRecord } from '../../state/records/tasks.js';
import type { Store } from '../../store/store.js';
import { readRecord, type Tx } from '../../store/transact.js';

/**
 * A cluster's capacity providers and default strategy (CreateCluster, PutClusterCapacityProviders) checked as ECS
 * checks them, and what DescribeClusters shows of them.
 */

/** At most this many capacity providers per cluster (ECS's quota). */
const MAX_PROVIDERS_PER_CLUSTER = 20;

/**
 * Each provider exists (built-in or ACTIVE), and the strategy uses only them, by ECS's rules. In the caller's
 * transaction: each provider of an Auto Scaling group is rewritten unchanged, so that a DeleteCapacityProvider
 * running meanwhile (which reads it) conflicts and sees the cluster that now has it.
 */
export async function checkClusterProviders(
  tx: Tx,
  providers: readonly string[] | undefined,
  strategy: readonly CapacityProviderStrategyItem[] | undefined,
): Promise<void> {
  const list = providers ?? [];
  if (list.length > MAX_PROVIDERS_PER_CLUSTER) {
    throw new ServiceError('LimitExceededException', `A cluster can have at most ${MAX_PROVIDERS_PER_CLUSTER} capacity providers.`);
  }
  if (new Set(list).size !== list.length) throw invalidParameter('capacityProviders: a capacity provider is listed more than once.');
  for (const name of list) {
    if (isBuiltInCapacityProvider(name)) continue;
    const record = await activeGroupProvider(tx, name);
    if (!record) throw invalidParameter(`The specified capacity provider '${name}' does not exist.`);
    tx.putJson(capacityProviderKeys.provider(name), record);
  }
  checkStrategy(strategy ?? [], { clusterProviders: list, isFargate: isBuiltInCapacityProvider }, 'defaultCapacityProviderStrategy');
}

/**
 * PutClusterCapacityProviders may take a provider off only when no task of the cluster (not yet STOPPED) runs
 * or waits on it and no service's strategy names it, as ECS has it. In the caller's transaction: it reads each
 * provider's in-use mark, which every launch on the provider (and CreateService/UpdateService naming it) writes, so a
 * launch committing meanwhile makes this transaction conflict and look again (the tasks and services it ranges over
 * are not recorded reads); the marks of the providers taken off are dropped.
 */
export async function checkRemovable(tx: Tx, cluster: string, removed: readonly string[]): Promise<void> {
  if (removed.length === 0) return;
  const gone = new Set(removed);
  for (const name of removed) {
    if (await tx.get(capacityProviderKeys.inUse(cluster, name))) tx.delete(capacityProviderKeys.inUse(cluster, name));
  }
  const tasks = await tx.range(keys.tasksOf(cluster));
  const services = await tx.range(keys.servicesOf(cluster));
  const inUse =
    tasks.entries.some((e) => {
      const t = parseTaskRecord(e.value, e.key).task;
      return t.lastStatus !== 'STOPPED' && gone.has(t.capacityProviderName ?? '');
    }) ||
    services.entries.some((e) => {
      const s = parseServiceRecord(e.value, e.key);
      return s.status !== 'INACTIVE' && (s.capacityProviderStrategy ?? []).some((i) => gone.has(i.capacityProvider ?? ''));
    });
  if (inUse) throw new ServiceError('ResourceInUseException', 'The specified capacity provider is in use and cannot be removed.');
}

/** In a CreateService/UpdateService transaction: the providers of the service's strategy are marked in use. */
export function markProvidersInUse(tx: Tx, cluster: string, strategy: readonly CapacityProviderStrategyItem[] | undefined, nowMs: number): void {
  for (const item of strategy ?? []) tx.put(capacityProviderKeys.inUse(cluster, item.capacityProvider ?? ''), String(nowMs));
}

/**
 * DescribeClusters' `attachments` (include ATTACHMENTS): ECS attaches a scaling policy (`as_policy`) to the cluster
 * for each provider of an Auto Scaling group with managed scaling on. The id is derived from the cluster and the
 * provider, so it is the same on every call and every replica.
 */
export async function clusterAttachments(store: Store, record: ClusterRecord): Promise<Wire<Attachment>[]> {
  const out: Wire<Attachment>[] = [];
  for (const name of record.capacityProviders) {
    if (isBuiltInCapacityProvider(name)) continue;
    const provider = await readRecord(store, parseCapacityProvider, capacityProviderKeys.provider(name));
    if (provider?.status !== 'ACTIVE' || provider.autoScalingGroupProvider.managedScaling.status !== 'ENABLED') continue;
    const id = uuidFrom(`${record.clusterArn}/${provider.capacityProviderArn}`);
    out.push({
      id,
      type: 'as_policy',
      status: 'CREATED',
      details: [
        { name: 'capacityProviderName', value: name },
        { name: 'scalingPolicyName', value: `ECSManagedAutoScalingPolicy-${id}` },
      ],
    });
  }
  return out;
}

function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
