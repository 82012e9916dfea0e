import type {
  Cluster,
  CreateClusterRequest,
  DeleteClusterRequest,
  DescribeClustersRequest,
  ListClustersRequest,
  UpdateClusterRequest,
  UpdateClusterSettingsRequest,
  PutClusterCapacityProvidersRequest,
} from '@aws-sdk/client-ecs';
import { clusterArn, parseOwnEcsArn } from '../../model/arn.js';
import {
  DEFAULT_INACTIVE_CLUSTER_RETENTION_MS,
  isDiscoverable,
  mergeSettings,
  validateClusterName,
  validateClusterSettings,
  type ClusterRecord,
} from '../../model/cluster.js';
import { ecsMessage } from '../../model/ecs-messages.js';
import { clusterNotFound, invalidParameter, ServiceError } from '../../model/errors.js';
import { validateTags } from '../../model/tags.js';
import { keys } from '../../state/keys.js';
import { readJson, transact, readRecord } from '../../store/transact.js';
import { pageOf } from '../pagination.js';
import { clusterUsage } from './cluster-usage.js';
import { epochSeconds, type EcsEnv } from './env.js';
import { effectiveAccountSetting } from './account-settings.js';
import { parseClusterRecord } from '../../state/records/clusters.js';
import { clusterDefaultNamespace } from './service-connect.js';
import { checkClusterProviders, checkRemovable, clusterAttachments } from './cluster-capacity.js';

export const DEFAULT_CLUSTER = 'default';

/** A cluster name from a name or ARN; an omitted cluster is `default`. Foreign or malformed ARNs match nothing. */
export function clusterNameOf(env: EcsEnv, ref: string | undefined): string | undefined {
  if (ref === undefined || ref === '') return DEFAULT_CLUSTER;
  if (ref.startsWith('arn:')) return parseOwnEcsArn(env.scope, ref, 'cluster');
  return ref;
}

/** The ACTIVE cluster `ref` names, or ClusterNotFoundException. */
export async function activeCluster(env: EcsEnv, ref: string | undefined): Promise<ClusterRecord> {
  const name = clusterNameOf(env, ref);
  const record = name === undefined ? undefined : await readRecord(env.store, parseClusterRecord, keys.cluster(name));
  if (!record || record.status !== 'ACTIVE') throw clusterNotFound();
  return record;
}

type Include = 'ATTACHMENTS' | 'CONFIGURATIONS' | 'SETTINGS' | 'STATISTICS' | 'TAGS';

async function describe(env: EcsEnv, record: ClusterRecord, include: readonly string[] = []): Promise<Cluster> {
  const has = (f: Include) => include.includes(f);
  const usage = await clusterUsage(env.store, record.clusterName);
  return {
    clusterArn: record.clusterArn,
    clusterName: record.clusterName,
    status: record.status,
    registeredContainerInstancesCount: usage.registeredContainerInstancesCount,
    runningTasksCount: usage.runningTasksCount,
    pendingTasksCount: usage.pendingTasksCount,
    activeServicesCount: usage.activeServicesCount,
    statistics: has('STATISTICS') ? usage.statistics : [],
    // As ECS: `tags` only when asked for (include TAGS), not an empty list.
    ...(has('TAGS') ? { tags: record.tags } : {}),
    settings: has('SETTINGS') ? record.settings : [],
    capacityProviders: record.capacityProviders,
    defaultCapacityProviderStrategy: record.defaultCapacityProviderStrategy,
    ...(has('CONFIGURATIONS') && record.configuration ? { configuration: record.configuration } : {}),
    ...(has('ATTACHMENTS') ? { attachments: await clusterAttachments(env.store, record), attachmentsStatus: 'UPDATE_COMPLETE' } : {}),
    ...(record.serviceConnectDefaults ? { serviceConnectDefaults: record.serviceConnectDefaults } : {}),
  };
}

export function clusterOperations(env: EcsEnv) {
  const discoverable = (record: ClusterRecord) =>
    isDiscoverable(record, env.now(), env.inactiveClusterRetentionMs ?? DEFAULT_INACTIVE_CLUSTER_RETENTION_MS);
  return {
    async CreateCluster(input: CreateClusterRequest) {
      const name = input.clusterName ?? DEFAULT_CLUSTER;
      validateClusterName(name);
      const tags = validateTags(input.tags);
      validateClusterSettings(input.settings);
      const insights = input.settings?.find((s) => s.name === 'containerInsights')
        ? []
        : [{ name: 'containerInsights' as const, value: await effectiveAccountSetting(env, 'containerInsights') }];
      // As ECS: a namespace name that is new makes an HTTP namespace of that name; the cluster keeps its ARN.
      const scDefault = input.serviceConnectDefaults ? await clusterDefaultNamespace(env, input.serviceConnectDefaults.namespace ?? '') : undefined;
      const record = await transact(env.store, async (tx) => {
        const existing = await tx.getRecord(parseClusterRecord, keys.cluster(name));
        // CreateCluster is idempotent: an ACTIVE cluster of that name is returned unchanged.
        if (existing?.status === 'ACTIVE') return existing;
        await checkClusterProviders(tx, input.capacityProviders, input.defaultCapacityProviderStrategy);
        const created: ClusterRecord = {
          clusterArn: clusterArn(env.scope, name),
          clusterName: name,
          status: 'ACTIVE',
          tags,
          settings: [...insights, ...(input.settings ?? [])],
          ...(input.configuration ? { configuration: input.configuration } : {}),
          capacityProviders: input.capacityProviders ?? [],
          defaultCapacityProviderStrategy: input.defaultCapacityProviderStrategy ?? [],
          ...(scDefault ? { serviceConnectDefaults: { namespace: scDefault } } : {}),
          createdAt: epochSeconds(env.now()),
        };
        tx.putJson(keys.cluster(name), created);
        return created;
      });
      return { cluster: await describe(env, record, ['SETTINGS', 'TAGS', 'CONFIGURATIONS']) };
    },

    async DescribeClusters(input: DescribeClustersRequest) {
      const refs = input.clusters?.length ? input.clusters : [DEFAULT_CLUSTER];
      if (refs.length > 100) throw invalidParameter('clusters can have at most 100 entries.');
      const clusters: Cluster[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of refs) {
        const name = clusterNameOf(env, ref);
        const record = name === undefined ? undefined : await readRecord(env.store, parseClusterRecord, keys.cluster(name));
        if (record && discoverable(record)) clusters.push(await describe(env, record, input.include));
        else failures.push({ arn: ref.startsWith('arn:') ? ref : clusterArn(env.scope, ref), reason: ecsMessage('missing') });
      }
      return { clusters, failures };
    },

    async ListClusters(input: ListClustersRequest) {
      const page = await pageOf(env.store, keys.clusters(), input, { defaultSize: 100, maxSize: 100 }, (e) => {
        // A deleted cluster stays listed for a while, as ECS keeps it (clients such as Copilot skip INACTIVE ones).
        const c = parseClusterRecord(e.value, e.key);
        return discoverable(c) ? c.clusterArn : undefined;
      });
      return { clusterArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async UpdateCluster(input: UpdateClusterRequest) {
      validateClusterSettings(input.settings);
      await activeCluster(env, input.cluster);
      const scDefault = input.serviceConnectDefaults ? await clusterDefaultNamespace(env, input.serviceConnectDefaults.namespace ?? '') : undefined;
      const record = await updateCluster(env, input.cluster, (c) => ({
        ...c,
        ...(input.settings ? { settings: mergeSettings(c.settings, input.settings) } : {}),
        ...(input.configuration ? { configuration: input.configuration } : {}),
        ...(scDefault ? { serviceConnectDefaults: { namespace: scDefault } } : {}),
      }));
      return { cluster: await describe(env, record, ['SETTINGS', 'CONFIGURATIONS']) };
    },

    async UpdateClusterSettings(input: UpdateClusterSettingsRequest) {
      validateClusterSettings(input.settings);
      const record = await updateCluster(env, input.cluster, (c) => ({
        ...c,
        settings: mergeSettings(c.settings, input.settings ?? []),
      }));
      return { cluster: await describe(env, record, ['SETTINGS']) };
    },

    /**
     * The cluster's capacity providers and default strategy, replaced as a whole (as ECS does). A provider taken
     * off must not be in use by the cluster's tasks or services (ResourceInUseException).
     */
    async PutClusterCapacityProviders(input: PutClusterCapacityProvidersRequest) {
      const current = await activeCluster(env, input.cluster);
      const providers = input.capacityProviders ?? [];
      const name = current.clusterName;
      const record = await transact(env.store, async (tx) => {
        const c = await tx.getRecord(parseClusterRecord, keys.cluster(name));
        if (!c || c.status !== 'ACTIVE') throw clusterNotFound();
        await checkRemovable(tx, name, c.capacityProviders.filter((p) => !providers.includes(p)));
        await checkClusterProviders(tx, providers, input.defaultCapacityProviderStrategy);
        const next: ClusterRecord = { ...c, capacityProviders: providers, defaultCapacityProviderStrategy: input.defaultCapacityProviderStrategy ?? [] };
        tx.putJson(keys.cluster(name), next);
        return next;
      });
      return { cluster: await describe(env, record, ['SETTINGS', 'CONFIGURATIONS']) };
    },

    async DeleteCluster(input: DeleteClusterRequest) {
      const name = clusterNameOf(env, input.cluster);
      const record = await transact(env.store, async (tx) => {
        const current = name === undefined ? undefined : await tx.getRecord(parseClusterRecord, keys.cluster(name));
        if (!current || current.status !== 'ACTIVE') throw clusterNotFound();
        const usage = await clusterUsage(env.store, current.clusterName);
        if (usage.liveServicesCount > 0) {
          throw new ServiceError('ClusterContainsServicesException', ecsMessage('clusterContainsServices'));
        }
        if (usage.registeredContainerInstancesCount > 0) {
          throw new ServiceError('ClusterContainsContainerInstancesException', ecsMessage('clusterContainsInstances'));
        }
        if (usage.liveTasksCount > 0) {
          throw new ServiceError('ClusterContainsTasksException', ecsMessage('clusterContainsTasks'));
        }
        const deleted: ClusterRecord = { ...current, status: 'INACTIVE', deletedAt: epochSeconds(env.now()) };
        tx.putJson(keys.cluster(current.clusterName), deleted);
        return deleted;
      });
      return { cluster: await describe(env, record) };
    },
  };
}

/** Read-modify-write an ACTIVE cluster. */
export async function updateCluster(
  env: EcsEnv,
  ref: string | undefined,
  change: (c: ClusterRecord) => ClusterRecord,
): Promise<ClusterRecord> {
  const name = clusterNameOf(env, ref);
  return transact(env.store, async (tx) => {
    const current = name === undefined ? undefined : await tx.getRecord(parseClusterRecord, keys.cluster(name));
    if (!current || current.status !== 'ACTIVE') throw clusterNotFound();
    const next = change(current);
    tx.putJson(keys.cluster(current.clusterName), next);
    return next;
  });
}
