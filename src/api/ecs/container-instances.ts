import { FARGATE_POOL_ATTRIBUTE, isFargatePoolHost } from '../../model/fargate-pool.js';
import { randomBytes } from 'node:crypto';
import type {
  Attribute,
  ContainerInstance,
  DeregisterContainerInstanceRequest,
  DescribeContainerInstancesRequest,
  DiscoverPollEndpointRequest,
  ListContainerInstancesRequest,
  RegisterContainerInstanceRequest,
  UpdateContainerInstancesStateRequest,
} from '@aws-sdk/client-ecs';
import { ecsArn, missingArn, parseOwnEcsArn } from '../../model/arn.js';
import { ecsMessage } from '../../model/ecs-messages.js';
import { capacityOfInstanceType, identityAttributes, parseIdentityDocument } from '../../model/instance-identity.js';
import { capacityOf, emptyNeeds, remainingCapacity, toResources } from '../../model/container-instance.js';
import { clientError, invalidParameter } from '../../model/errors.js';
import { validateTags } from '../../model/tags.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { readJson, transact, readRecord } from '../../store/transact.js';
import { pageOf } from '../pagination.js';
import type { CallContext } from '../protocol/json-rpc.js';
import { activeCluster, clusterNameOf } from './clusters.js';
import { epochSeconds, type EcsEnv } from './env.js';
import { compileFilter, cqlView } from './placement.js';
import { parseTaskRecord } from '../../state/records/tasks.js';
import { parseInstanceRecord } from '../../state/records/instances.js';
import { emitContainerInstanceStateChange } from '../../state/ecs-events.js';

export const instanceArn = (env: EcsEnv, cluster: string, id: string) => ecsArn(env.scope, 'container-instance', `${cluster}/${id}`);

/** A container instance id from an id or an ARN of this cluster. */
export function instanceIdOf(env: EcsEnv, cluster: string, ref: string): string | undefined {
  if (!ref.startsWith('arn:')) return /^[a-f0-9]{32}$/.test(ref) ? ref : undefined;
  const resource = parseOwnEcsArn(env.scope, ref, 'container-instance');
  const [c, id] = resource?.split('/') ?? [];
  return c === cluster ? id : undefined;
}

/** An instance as DescribeContainerInstances shows it: stored fields plus what is derived from its tasks. */
export function describeInstance(record: InstanceRecord, tasks: readonly TaskRecord[], includeTags: boolean): Wire<ContainerInstance> {
  const mine = tasks.filter((t) => t.instanceId === record.id);
  const { tags, ...instance } = record.instance;
  return {
    ...instance,
    remainingResources: toResources(remainingCapacity(capacityOf(record.instance.registeredResources), record.reserved)),
    runningTasksCount: mine.filter((t) => t.task.lastStatus === 'RUNNING').length,
    pendingTasksCount: mine.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.task.lastStatus ?? '')).length,
    // As ECS: `tags` only when asked for (include TAGS), not an empty list.
    ...(includeTags ? { tags: tags ?? [] } : {}),
  };
}

async function tasksOf(env: EcsEnv, cluster: string): Promise<TaskRecord[]> {
  const { entries } = await env.store.range(keys.tasksOf(cluster));
  return entries.map((e) => parseTaskRecord(e.value, e.key));
}

export function containerInstanceOperations(env: EcsEnv) {
  return {
    async RegisterContainerInstance(input: RegisterContainerInstanceRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const identity = parseIdentityDocument(input.instanceIdentityDocument);
      const tags = validateTags(input.tags);
      // totalResources is optional in the model; given, it must carry what placement counts.
      const given = input.totalResources === undefined ? undefined : capacityOf(input.totalResources);
      if (given && (given.cpu <= 0 || given.memory <= 0)) {
        throw invalidParameter("totalResources must include positive 'CPU' and 'MEMORY' INTEGER resources.");
      }
      const reported: Attribute[] = (input.attributes ?? []).map((a) => ({ name: a.name, ...(a.value !== undefined ? { value: a.value } : {}) }));
      // What ECS derives from the identity document, unless the caller reported that attribute itself.
      const derived = identityAttributes(identity, input.instanceIdentityDocument !== undefined && input.instanceIdentityDocument !== '');
      const attributes = [...reported, ...derived.filter((d) => !reported.some((a) => a.name === d.name))];
      const requestedId = input.containerInstanceArn ? instanceIdOf(env, cluster, input.containerInstanceArn) : undefined;
      const record = await transact(env.store, async (tx) => {
        // A restarted agent presents its ARN (or the same instance identity): it is the same instance again.
        let existing = requestedId ? await tx.getRecord(parseInstanceRecord, keys.containerInstance(cluster, requestedId)) : undefined;
        if (!existing && identity.instanceId) {
          const { entries } = await tx.range(keys.containerInstancesOf(cluster));
          const match = entries.map((e) => parseInstanceRecord(e.value, e.key)).find((r) => r.ec2InstanceId === identity.instanceId);
          existing = match && (await tx.getRecord(parseInstanceRecord, keys.containerInstance(cluster, match.id)));
        }
        if (existing?.instance.status === 'INACTIVE') existing = undefined;
        const id = existing?.id ?? randomBytes(16).toString('hex');
        // Without totalResources: what the instance reported before, else what its type has.
        const registeredResources = given
          ? toResources(given)
          : (existing?.instance.registeredResources ?? toResources(capacityOfInstanceType(identity.instanceType)));
        const ec2InstanceId = identity.instanceId ?? existing?.ec2InstanceId ?? `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
        const next: InstanceRecord = {
          cluster,
          id,
          ec2InstanceId,
          reserved: existing?.reserved ?? emptyNeeds,
          // A restarted agent re-registering does not reset how long its session has been gone.
          ...(existing?.disconnectedAt !== undefined && !existing.instance.agentConnected ? { disconnectedAt: existing.disconnectedAt } : {}),
          instance: {
            containerInstanceArn: instanceArn(env, cluster, id),
            ec2InstanceId,
            version: (existing?.instance.version ?? 0) + 1,
            versionInfo: input.versionInfo ?? {},
            registeredResources,
            status: existing?.instance.status === 'DRAINING' ? 'DRAINING' : 'ACTIVE',
            agentConnected: existing?.instance.agentConnected ?? false,
            attributes: mergeAttributes(existing?.instance.attributes ?? [], attributes),
            registeredAt: existing?.instance.registeredAt ?? epochSeconds(env.now()),
            attachments: [],
            tags: tags.length ? tags : (existing?.instance.tags ?? []),
          },
        };
        tx.putJson(keys.containerInstance(cluster, id), next);
        emitContainerInstanceStateChange(tx, next.instance, env.now());
        return next;
      });
      return { containerInstance: describeInstance(record, await tasksOf(env, cluster), true) };
    },

    async DeregisterContainerInstance(input: DeregisterContainerInstanceRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const id = instanceIdOf(env, cluster, input.containerInstance!);
      const record = await transact(env.store, async (tx) => {
        const current = id ? await tx.getRecord(parseInstanceRecord, keys.containerInstance(cluster, id)) : undefined;
        if (!current || current.instance.status === 'INACTIVE') {
          throw invalidParameter(`The container instance ${input.containerInstance} does not exist in cluster ${cluster}.`);
        }
        const live = (await tasksOf(env, cluster)).filter((t) => t.instanceId === current.id && t.task.lastStatus !== 'STOPPED');
        if (live.length > 0 && !input.force) {
          throw invalidParameter(ecsMessage('runningTasksOnInstance'));
        }
        const next: InstanceRecord = {
          ...current,
          instance: { ...current.instance, status: 'INACTIVE', agentConnected: false, version: (current.instance.version ?? 0) + 1 },
        };
        tx.putJson(keys.containerInstance(cluster, current.id), next);
        emitContainerInstanceStateChange(tx, next.instance, env.now());
        return next;
      });
      return { containerInstance: describeInstance(record, await tasksOf(env, cluster), false) };
    },

    async DescribeContainerInstances(input: DescribeContainerInstancesRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const refs = input.containerInstances ?? [];
      if (refs.length === 0) throw clientError(ecsMessage('containerInstancesEmpty'));
      if (refs.length > 100) throw invalidParameter('containerInstances can have at most 100 entries.');
      const tasks = await tasksOf(env, cluster);
      const containerInstances: Wire<ContainerInstance>[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of refs) {
        const id = instanceIdOf(env, cluster, ref);
        const record = id ? await readRecord(env.store, parseInstanceRecord, keys.containerInstance(cluster, id)) : undefined;
        // Fargate pool hosts are not the cluster's container instances (model/fargate-pool.ts).
        if (record && !isFargatePoolHost(record.instance.attributes)) containerInstances.push(describeInstance(record, tasks, input.include?.includes('TAGS') ?? false));
        else failures.push({ arn: missingArn(env.scope, 'container-instance', ref), reason: ecsMessage('missing') });
      }
      return { containerInstances, failures };
    },

    async ListContainerInstances(input: ListContainerInstancesRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const filter = input.filter ? compileFilter(input.filter, 'filter') : undefined;
      // A filter can look at tasks (task:group, runningTasksCount), so it sees the same snapshot placement does.
      if (filter) await env.cache.catchUp();
      const views = filter ? new Map(env.cache.snapshot(cluster).map((s) => [s.id, cqlView(s)])) : undefined;
      const page = await pageOf(env.store, keys.containerInstancesOf(cluster), input, { defaultSize: 100, maxSize: 100 }, (e) => {
        const { id, instance } = parseInstanceRecord(e.value, e.key);
        const listed = input.status ? instance.status === input.status : instance.status !== 'INACTIVE';
        if (!listed || isFargatePoolHost(instance.attributes)) return undefined;
        if (filter && !filter.matches(views!.get(id)!)) return undefined;
        return instance.containerInstanceArn!;
      });
      return { containerInstanceArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async UpdateContainerInstancesState(input: UpdateContainerInstancesStateRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const refs = input.containerInstances ?? [];
      if (refs.length < 1 || refs.length > 10) throw invalidParameter('containerInstances must list between 1 and 10 container instances.');
      if (input.status !== 'ACTIVE' && input.status !== 'DRAINING') throw invalidParameter('status must be ACTIVE or DRAINING.');
      const failures: { arn: string; reason: string; detail?: string }[] = [];
      const updated = await transact(env.store, async (tx) => {
        const out: InstanceRecord[] = [];
        failures.length = 0;
        for (const ref of refs) {
          const id = instanceIdOf(env, cluster, ref);
          const key = id ? keys.containerInstance(cluster, id) : undefined;
          const record = key ? await tx.getRecord(parseInstanceRecord, key) : undefined;
          if (!record || record.instance.status === 'INACTIVE') {
            failures.push({ arn: missingArn(env.scope, 'container-instance', ref), reason: ecsMessage('missing') });
            continue;
          }
          const next: InstanceRecord =
            record.instance.status === input.status
              ? record
              : { ...record, instance: { ...record.instance, status: input.status, version: (record.instance.version ?? 0) + 1 } };
          if (next !== record) {
            tx.putJson(key!, next);
            emitContainerInstanceStateChange(tx, next.instance, env.now());
          }
          out.push(next);
        }
        return out;
      });
      const tasks = await tasksOf(env, cluster);
      return { containerInstances: updated.map((r) => describeInstance(r, tasks, false)), failures };
    },

    async DiscoverPollEndpoint(input: DiscoverPollEndpointRequest, call: CallContext) {
      if (input.cluster !== undefined) await activeCluster(env, input.cluster);
      const cluster = clusterNameOf(env, input.cluster);
      if (input.containerInstance && cluster) {
        const id = instanceIdOf(env, cluster, input.containerInstance);
        const record = id ? await readRecord(env.store, parseInstanceRecord, keys.containerInstance(cluster, id)) : undefined;
        if (!record) throw invalidParameter(`The container instance ${input.containerInstance} does not exist.`);
      }
      // Agents open their session where they reached the API: the same host, the same listener.
      const endpoint = `http://${call.host}/`;
      return { endpoint, telemetryEndpoint: endpoint, serviceConnectEndpoint: endpoint };
    },
  };
}

/** Built-in attributes (ecs.*, capabilities) are replaced by the agent's latest; custom ones are kept. */
function mergeAttributes(existing: readonly Attribute[], reported: readonly Attribute[]): Attribute[] {
  const reportedNames = new Set(reported.map((a) => a.name));
  // The pool attribute is the agent's to say at each registration: a host restarted without --fargate leaves the pool.
  const custom = existing.filter((a) => a.name && !isBuiltIn(a.name) && a.name !== FARGATE_POOL_ATTRIBUTE && !reportedNames.has(a.name));
  return [...reported, ...custom];
}

export function isBuiltIn(name: string): boolean {
  return name.startsWith('ecs.') || name.startsWith('com.amazonaws.ecs.');
}
