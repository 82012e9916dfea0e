/**
 * Task sets for services with the EXTERNAL deployment controller: CreateTaskSet, DescribeTaskSets,
 * UpdateTaskSet, DeleteTaskSet and UpdateServicePrimaryTaskSet. A task set lives inside its service's record
 * (the Service shape's `taskSets`), so every change is one compare-and-swap on that record — safe across
 * replicas, and ordered with the service controller's own writes, which keep the sets' counts.
 */
import type {
  CreateTaskSetRequest,
  DeleteTaskSetRequest,
  DescribeTaskSetsRequest,
  TaskSet,
  UpdateServicePrimaryTaskSetRequest,
  UpdateTaskSetRequest,
} from '@aws-sdk/client-ecs';
import { clusterArn, parseOwnEcsArn } from '../../model/arn.js';
import { ecsMessage } from '../../model/ecs-messages.js';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { computedDesiredCount, newTaskSet, scaleOf, taskSetArn } from '../../model/service/task-sets.js';
import { validateTags } from '../../model/tags.js';
import { awsvpcConfigurationFor } from '../../model/task-eni.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import { parseServiceRecord, type ServiceRecord } from '../../state/records/services.js';
import { readRecord, transact } from '../../store/transact.js';
import { activeCluster } from './clusters.js';
import type { EcsEnv } from './env.js';
import { newDeploymentId, serviceNameOf, serviceTaskDefinition } from './services.js';
import { deploymentLaunch, serviceLaunchOf } from './service-capacity.js';

const serviceNotFound = () => new ServiceError('ServiceNotFoundException', 'Service not found.');
const serviceNotActive = () => new ServiceError('ServiceNotActiveException', 'Service was not ACTIVE.');
const taskSetNotFound = () => new ServiceError('TaskSetNotFoundException', 'The specified task set does not exist.');

/** Only the EXTERNAL controller's sets are the caller's to change (CODE_DEPLOY's belong to CodeDeploy). */
function requireExternal(record: ServiceRecord): void {
  const type = record.deploymentController?.type ?? 'ECS';
  if (type !== 'EXTERNAL') {
    throw invalidParameter(`Task sets can only be managed for services with the EXTERNAL deployment controller; service ${record.serviceName} uses ${type}.`);
  }
}

/** A task set's id from its id (`ecs-svc/…`) or its ARN (`task-set/<cluster>/<service>/<id>`) in this service. */
function taskSetIdOf(env: EcsEnv, cluster: string, service: string, ref: string): string {
  if (!ref.startsWith('arn:')) return ref;
  const resource = parseOwnEcsArn(env.scope, ref, 'task-set') ?? '';
  const prefix = `${cluster}/${service}/`;
  return resource.startsWith(prefix) ? resource.slice(prefix.length) : '';
}

export function taskSetOperations(env: EcsEnv) {
  async function serviceKeyOf(clusterRef: string | undefined, serviceRef: string | undefined) {
    const cluster = (await activeCluster(env, clusterRef)).clusterName;
    const name = serviceRef ? serviceNameOf(env, cluster, serviceRef) : undefined;
    return { cluster, name, key: name ? keys.service(cluster, name) : undefined };
  }

  /** Read-modify-write one task set of an ACTIVE EXTERNAL service; `change` returns the set's new form. */
  async function changeSet(
    input: { cluster?: string; service?: string; taskSet?: string },
    change: (set: Wire<TaskSet>, record: ServiceRecord, now: number) => Wire<TaskSet>,
    alsoOthers?: (other: Wire<TaskSet>, now: number) => Wire<TaskSet>,
  ): Promise<Wire<TaskSet>> {
    const { cluster, name, key } = await serviceKeyOf(input.cluster, input.service);
    return transact(env.store, async (tx) => {
      const record = key ? await tx.getRecord(parseServiceRecord, key) : undefined;
      if (!record) throw serviceNotFound();
      if (record.status !== 'ACTIVE') throw serviceNotActive();
      requireExternal(record);
      const id = taskSetIdOf(env, cluster, name!, input.taskSet ?? '');
      const current = (record.taskSets ?? []).find((s) => s.id === id);
      if (!current) throw taskSetNotFound();
      const now = env.now();
      const changed = change(current, record, now);
      const sets = (record.taskSets ?? []).map((s) => (s.id === id ? changed : alsoOthers ? alsoOthers(s, now) : s));
      const primary = sets.find((s) => s.status === 'PRIMARY');
      const next: ServiceRecord = {
        ...record,
        taskSets: sets,
        // What the primary task set runs is what the service runs, as ECS shows it.
        ...(primary ? { taskDefinition: primary.taskDefinition!, launchType: primary.launchType ?? record.launchType } : {}),
        berth: { ...record.berth, steady: false },
      };
      tx.putJson(key!, next);
      return changed;
    });
  }

  const withoutTags = ({ tags: _tags, ...set }: Wire<TaskSet>) => set;

  return {
    async CreateTaskSet(input: CreateTaskSetRequest) {
      const { cluster, name, key } = await serviceKeyOf(input.cluster, input.service);
      const scale = scaleOf(input.scale);
      const tags = validateTags(input.tags);
      if (input.clientToken !== undefined && !/^[\x21-\x7e]{1,36}$/.test(input.clientToken)) {
        throw invalidParameter('clientToken: up to 36 ASCII characters from ! to ~.');
      }
      const td = await serviceTaskDefinition(env, input.taskDefinition!);
      // The set's launch: its own launch type or strategy, else the service's (else the cluster's default strategy).
      const service = key ? await readRecord(env.store, parseServiceRecord, key) : undefined;
      const given = input.launchType !== undefined || (input.capacityProviderStrategy?.length ?? 0) > 0;
      const fallback = given ? {} : { launchType: service?.launchType, capacityProviderStrategy: service?.capacityProviderStrategy };
      const launch = deploymentLaunch(await serviceLaunchOf(env, { ...input, ...fallback, placementConstraints: service?.placementConstraints, placementStrategy: service?.placementStrategy }, await activeCluster(env, cluster), td, 'ECS'));
      const awsvpc = awsvpcConfigurationFor(td.networkMode, input.networkConfiguration);
      const set = await transact(env.store, async (tx) => {
        const record = key ? await tx.getRecord(parseServiceRecord, key) : undefined;
        if (!record) throw serviceNotFound();
        if (record.status !== 'ACTIVE') throw serviceNotActive();
        requireExternal(record);
        const tokens = record.berth.taskSetTokens ?? {};
        const known = input.clientToken !== undefined ? Object.entries(tokens).find(([t]) => t === input.clientToken)?.[1] : undefined;
        const again = known ? (record.taskSets ?? []).find((s) => s.id === known) : undefined;
        if (again) return again;
        const id = newDeploymentId();
        const now = env.now();
        const created = newTaskSet({
          id,
          arn: taskSetArn(env.scope, cluster, name!, id),
          serviceArn: record.serviceArn!,
          clusterArn: clusterArn(env.scope, cluster),
          taskDefinition: td.taskDefinitionArn!,
          desiredCount: record.desiredCount ?? 0,
          scale,
          nowMs: now,
          ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
          ...launch,
          ...(awsvpc ? { networkConfiguration: { awsvpcConfiguration: awsvpc } } : {}),
          loadBalancers: input.loadBalancers ?? [],
          serviceRegistries: input.serviceRegistries ?? [],
          tags,
        });
        const next: ServiceRecord = {
          ...record,
          taskSets: [...(record.taskSets ?? []), created],
          berth: {
            ...record.berth,
            steady: false,
            ...(input.clientToken !== undefined ? { taskSetTokens: { ...tokens, [input.clientToken]: id } } : {}),
          },
        };
        tx.putJson(key!, next);
        return created;
      });
      return { taskSet: set };
    },

    async DescribeTaskSets(input: DescribeTaskSetsRequest) {
      // As ECS: no task sets named (omitted or empty) is refused, not "all of them" — and before any lookup.
      const refs = input.taskSets ?? [];
      if (refs.length === 0) throw invalidParameter(ecsMessage('taskSetsEmpty'));
      const { cluster, name, key } = await serviceKeyOf(input.cluster, input.service);
      const record = key ? await readRecord(env.store, parseServiceRecord, key) : undefined;
      if (!record) throw serviceNotFound();
      if (record.status === 'INACTIVE') throw serviceNotActive();
      const withTags = input.include?.includes('TAGS') ?? false;
      const all = record.taskSets ?? [];
      const shown = (s: Wire<TaskSet>) => (withTags ? s : withoutTags(s));
      const taskSets: Wire<TaskSet>[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of refs) {
        const id = taskSetIdOf(env, cluster, name!, ref);
        const found = all.find((s) => s.id === id);
        if (found) taskSets.push(shown(found));
        else failures.push({ arn: ref.startsWith('arn:') ? ref : taskSetArn(env.scope, cluster, name!, ref), reason: 'MISSING' });
      }
      return { taskSets, failures };
    },

    async UpdateTaskSet(input: UpdateTaskSetRequest) {
      const scale = scaleOf(input.scale ?? undefined);
      const taskSet = await changeSet(input, (set, record, now) => {
        if (set.status === 'DRAINING') throw invalidParameter('The task set is DRAINING: it cannot be scaled.');
        const computed = computedDesiredCount(record.desiredCount ?? 0, scale, set.status);
        return { ...set, scale, computedDesiredCount: computed, updatedAt: now / 1000 };
      });
      return { taskSet: withoutTags(taskSet) };
    },

    async DeleteTaskSet(input: DeleteTaskSetRequest) {
      const taskSet = await changeSet(input, (set, _record, now) => {
        if (set.status === 'DRAINING') return set;
        // Without force, ECS deletes only a task set already scaled down to zero.
        if (!input.force && (set.scale?.value ?? 100) > 0) {
          throw invalidParameter('The task set cannot be deleted while it is scaled above 0. Scale it to 0 with UpdateTaskSet first, or use force.');
        }
        return { ...set, status: 'DRAINING', computedDesiredCount: 0, stabilityStatus: 'STABILIZING', stabilityStatusAt: now / 1000, updatedAt: now / 1000 };
      });
      return { taskSet: withoutTags(taskSet) };
    },

    async UpdateServicePrimaryTaskSet(input: UpdateServicePrimaryTaskSetRequest) {
      const taskSet = await changeSet(
        { cluster: input.cluster, service: input.service, taskSet: input.primaryTaskSet },
        (set, _record, now) => {
          if (set.status === 'DRAINING') throw invalidParameter('A DRAINING task set cannot become the primary task set.');
          return set.status === 'PRIMARY' ? set : { ...set, status: 'PRIMARY', updatedAt: now / 1000 };
        },
        // The former primary set goes on running, as ACTIVE.
        (other, now) => (other.status === 'PRIMARY' ? { ...other, status: 'ACTIVE', updatedAt: now / 1000 } : other),
      );
      return { taskSet: withoutTags(taskSet) };
    },
  };
}
