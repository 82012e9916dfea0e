import { createHash } from 'node:crypto';
import type {
  AwsVpcConfiguration,
  DescribeTasksRequest,
  ListTasksRequest,
  RunTaskRequest,
  StartTaskRequest,
  StopTaskRequest,
  Task,
  TaskDefinition,
  TaskOverride,
} from '@aws-sdk/client-ecs';
import type { FargateLaunch } from '../../model/fargate-launch.js';
import type { StrategyItem } from '../../model/capacity-strategy.js';
import { isFargatePoolHost } from '../../model/fargate-pool.js';
import { missingArn, parseOwnEcsArn } from '../../model/arn.js';
import { ecsMessage } from '../../model/ecs-messages.js';
import { clientError, clusterNotFound, invalidParameter } from '../../model/errors.js';
import { validateTags, type Tag } from '../../model/tags.js';
import { awsvpcConfigurationFor } from '../../model/task-eni.js';
import { taskNeeds, type TaskNeeds } from '../../model/task.js';
import type { Wire } from '../../model/wire.js';
import { place } from '../../scheduler/index.js';
import { keys } from '../../state/keys.js';
import { parseServiceRecord } from '../../state/records/services.js';
import { LaunchBatcher, replayedLaunch, type Idempotency } from '../../state/launch-batcher.js';
import { taskArnOf, type LaunchSpec } from '../../state/task-launch.js';
import { readRecord, transact } from '../../store/transact.js';
import { pageOf } from '../pagination.js';
import { activeCluster, clusterNameOf } from './clusters.js';
import { instanceIdOf } from './container-instances.js';
import { placementRequestOf } from '../../state/placement-request.js';
import type { EcsEnv } from './env.js';
import { behindLoadBalancers, deactivateTaskInTx, stopTaskInTx } from '../../state/task-stop.js';
import { findTaskDefinition } from './task-definitions.js';
import { launchChoiceOf } from './launch-choice.js';
import { launchOnProviders } from './provider-launch.js';
import { planFargateRun } from './fargate-run.js';
import { storeReader } from '../../state/capacity-providers.js';
import { parseTaskRecord } from '../../state/records/tasks.js';

export const taskArn = (env: EcsEnv, cluster: string, id: string) => taskArnOf(env.scope, cluster, id);

/** A task id from an id or an ARN of this cluster. */
export function taskIdOf(env: EcsEnv, cluster: string, ref: string): string | undefined {
  if (!ref.startsWith('arn:')) return /^[a-f0-9]{32}$/.test(ref) ? ref : undefined;
  const [c, id] = parseOwnEcsArn(env.scope, ref, 'task')?.split('/') ?? [];
  return c === cluster ? id : undefined;
}

export interface LaunchRequest {
  readonly cluster: string;
  readonly td: Wire<TaskDefinition>;
  readonly tdTags: readonly Tag[];
  readonly overrides: TaskOverride;
  readonly group: string;
  readonly startedBy?: string;
  readonly tags: Tag[];
  /** awsvpc tasks: the subnets and security groups their interface is recorded with. */
  readonly awsvpc?: Wire<AwsVpcConfiguration>;
  /** Set for a Fargate launch: placed on the cluster's Fargate pool hosts only (a single task's launch). */
  readonly fargate?: FargateLaunch;
  /** A Fargate launch's providers: its tasks are split over them (fargate-run.ts). */
  readonly fargateStrategy?: readonly StrategyItem[];
  /** Set for a strategy of capacity providers of Auto Scaling groups: placed on their groups' instances (provider-launch.ts). */
  readonly providers?: readonly StrategyItem[];
  readonly enableExecuteCommand?: boolean;
}

/** Check a RunTask/StartTask request and resolve its task definition. */
async function prepareLaunch(env: EcsEnv, input: RunTaskRequest | StartTaskRequest): Promise<LaunchRequest> {
  const clusterRecord = await activeCluster(env, input.cluster);
  const cluster = clusterRecord.clusterName;
  const record = await findTaskDefinition(env, input.taskDefinition!);
  if (!record) throw clientError(ecsMessage('taskDefinitionNotDescribable'));
  const td = record.taskDefinition;
  if (td.status !== 'ACTIVE') throw clientError(`TaskDefinition is inactive: ${td.taskDefinitionArn}`);
  // StartTask names its instances and has no launch type: always EC2 (a pool host cannot be named).
  const choice = 'containerInstances' in input ? { kind: 'ec2' as const } : await launchChoiceOf(storeReader(env.store), input, clusterRecord, td);
  const fargate = choice.kind === 'fargate' ? choice.fargate : undefined;
  const awsvpc = awsvpcConfigurationFor(td.networkMode, input.networkConfiguration, { fargate: choice.kind === 'fargate' });
  const names = new Set(td.containerDefinitions?.map((c) => c.name));
  for (const o of input.overrides?.containerOverrides ?? []) {
    if (!o.name || !names.has(o.name)) {
      throw invalidParameter(`Container override for '${o.name ?? ''}' does not match a container in ${td.taskDefinitionArn}.`);
    }
  }
  if (input.startedBy !== undefined && input.startedBy.length > 128) throw invalidParameter('startedBy can be at most 128 characters.');
  if (input.group !== undefined && !/^[a-zA-Z0-9_:-]{1,255}$/.test(input.group)) {
    throw invalidParameter('group can have up to 255 letters, numbers, hyphens, colons and underscores.');
  }
  const tags = validateTags(input.tags);
  return {
    cluster,
    td,
    tdTags: input.propagateTags === 'TASK_DEFINITION' ? record.tags : [],
    overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [], ...input.overrides },
    group: input.group ?? `family:${td.family}`,
    ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
    tags,
    ...(awsvpc ? { awsvpc } : {}),
    ...(fargate ? { fargate } : {}),
    ...(choice.kind === 'fargate' ? { fargateStrategy: choice.strategy } : {}),
    ...(choice.kind === 'providers' ? { providers: choice.strategy } : {}),
    ...(input.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
  };
}

/** What the launch's tasks are created from (the same for each capacity provider of a strategy). */
export function specOf(launch: LaunchRequest, needs: TaskNeeds): LaunchSpec {
  return {
    cluster: launch.cluster,
    td: launch.td,
    propagatedTags: launch.tdTags,
    tags: launch.tags,
    overrides: launch.overrides,
    group: launch.group,
    ...(launch.startedBy !== undefined ? { startedBy: launch.startedBy } : {}),
    needs,
    ...(launch.awsvpc ? { awsvpc: launch.awsvpc } : {}),
    ...(launch.fargate ? { fargate: launch.fargate } : {}),
    ...(launch.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
  };
}

/** Reserve and create the tasks on the chosen instances, in one transaction (grouped with concurrent launches). */
async function launchOn(launcher: LaunchBatcher, launch: LaunchRequest, instanceIds: readonly string[], needs: TaskNeeds, idempotency?: Idempotency) {
  const { created, failures, replayed } = await launcher.launch(specOf(launch, needs), instanceIds, idempotency);
  return { tasks: created.map((r) => r.task), failures, replayed };
}

/** RunTask's clientToken, as ECS allows it: 1–64 characters from '!' to '~'. */
const CLIENT_TOKEN = /^[\x21-\x7e]{1,64}$/;

/** The request's parameters without its token, in one canonical form (key order does not matter). */
function fingerprintOf(input: RunTaskRequest): string {
  const { clientToken: _token, ...rest } = input;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A task as DescribeTasks shows it without `include: ['TAGS']`: ECS leaves `tags` out altogether. */
function withoutTags(task: Wire<Task>): Wire<Task> {
  const { tags: _tags, ...rest } = task;
  return rest;
}

export function taskOperations(env: EcsEnv) {
  const launcher = new LaunchBatcher(env.store, env, env.maxTasksPerCommit);
  return {
    async RunTask(input: RunTaskRequest) {
      const acceptedAt = env.spans?.now() ?? 0;
      const count = input.count ?? 1;
      if (count < 1 || count > 10) throw invalidParameter('count must be between 1 and 10.');
      if (input.clientToken !== undefined && !CLIENT_TOKEN.test(input.clientToken)) {
        throw invalidParameter('clientToken must be 1 to 64 characters in the ASCII range 33-126.');
      }
      const launch = await prepareLaunch(env, input);
      const token = input.clientToken !== undefined ? { token: input.clientToken, fingerprint: fingerprintOf(input) } : undefined;
      // A retry of a call that already launched (through any replica) gets that call's answer, placing nothing.
      const earlier = token ? await replayedLaunch({ getRecord: (parse, key) => readRecord(env.store, parse, key) }, env, launch.cluster, token) : undefined;
      if (earlier) return { tasks: earlier.created.map((r) => r.task), failures: earlier.failures };
      const placingAt = env.spans?.now() ?? 0;
      const needs = taskNeeds(launch.td, launch.overrides);
      const request = placementRequestOf(launch.td, { count, needs, group: launch.group }, input.placementConstraints, input.placementStrategy);
      // See every instance and task committed before this call, through any replica; the launch
      // transaction re-checks each chosen instance, so a cache that moves on meanwhile costs nothing.
      await env.cache.catchUp();
      if (launch.providers) {
        const launched = await launchOnProviders(env, launcher, launch.providers, specOf(launch, needs), request, token);
        return { tasks: launched.created.map((r) => r.task), failures: launched.failures };
      }
      const snapshots = env.cache.snapshot(launch.cluster, launch.fargate ? 'fargate' : 'ec2');
      if (!snapshots.some((s) => s.status === 'ACTIVE')) {
        throw invalidParameter(
          launch.fargate
            ? `No Fargate capacity in cluster ${launch.cluster}: its Fargate pool has no hosts (join one with \`berth agent --fargate\`).`
            : ecsMessage('noContainerInstances'),
        );
      }
      // Fargate: the call's tasks split over its providers, on-demand ones interrupting spot tasks for room.
      const spec = specOf(launch, needs);
      const fargate = launch.fargate && launch.fargateStrategy ? await planFargateRun(env, launch.cluster, launch.fargateStrategy, { ...spec, fargate: launch.fargate }, request) : undefined;
      const plan = fargate?.plan ?? place(snapshots, request, Math.random);
      const parts = fargate?.parts ?? [{ spec, instanceIds: plan.placements }];
      const committingAt = env.spans?.now() ?? 0;
      const batched = await launcher.launchAll(parts, token && { ...token, placementFailures: plan.instanceFailures });
      const launched = { tasks: batched.created.map((r) => r.task), failures: batched.failures, replayed: batched.replayed };
      if (env.spans?.enabled && !launched.replayed) {
        const committedAt = env.spans.now();
        for (const t of launched.tasks) {
          env.spans.begin(t.taskArn!, 'server.runtask', acceptedAt);
          env.spans.add(t.taskArn!, 'server.accept', acceptedAt, placingAt);
          env.spans.add(t.taskArn!, 'server.placement', placingAt, committingAt);
          env.spans.add(t.taskArn!, 'server.commit', committingAt, committedAt);
          env.spans.flush(t.taskArn!);
        }
      }
      // A concurrent retry with the same token that committed first: its answer already holds its placement failures.
      return { tasks: launched.tasks, failures: launched.replayed ? launched.failures : [...launched.failures, ...plan.instanceFailures] };
    },

    async StartTask(input: StartTaskRequest) {
      const refs = input.containerInstances ?? [];
      if (refs.length < 1 || refs.length > 10) throw invalidParameter('containerInstances must list between 1 and 10 container instances.');
      const launch = await prepareLaunch(env, input);
      const needs = taskNeeds(launch.td, launch.overrides);
      const ids: string[] = [];
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of refs) {
        const id = instanceIdOf(env, launch.cluster, ref);
        // A Fargate pool host is not a container instance of the cluster (model/fargate-pool.ts).
        const poolHost = id !== undefined && isFargatePoolHost(env.cache.instanceRecords(launch.cluster).get(id)?.instance.attributes);
        if (id && !poolHost) ids.push(id);
        else failures.push({ arn: missingArn(env.scope, 'container-instance', ref), reason: ecsMessage('missing') });
      }
      const launched = await launchOn(launcher, launch, ids, needs);
      return { tasks: launched.tasks, failures: [...failures, ...launched.failures] };
    },

    async StopTask(input: StopTaskRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const id = taskIdOf(env, cluster, input.task!);
      if (input.reason !== undefined && input.reason.length > 255) throw invalidParameter('reason can be at most 255 characters.');
      const task = await transact(env.store, async (tx) => {
        const record = id ? await tx.getRecord(parseTaskRecord, keys.task(cluster, id)) : undefined;
        if (!record) throw invalidParameter(ecsMessage('taskNotFound'));
        const why = { reason: input.reason || 'Task stopped by user', stopCode: 'UserInitiated' } as const;
        // A service's task behind load balancers drains first (DEACTIVATING); the service controller deregisters it.
        const service = record.serviceName && record.task.lastStatus === 'RUNNING' ? await tx.getRecord(parseServiceRecord, keys.service(cluster, record.serviceName)) : undefined;
        if (service && behindLoadBalancers(service, record.task.startedBy)) return deactivateTaskInTx(tx, record, why, env.now());
        return stopTaskInTx(env, tx, record, why);
      });
      return { task };
    },

    async DescribeTasks(input: DescribeTasksRequest) {
      const refs = input.tasks ?? [];
      if (refs.length > 100) throw invalidParameter('tasks can have at most 100 entries.');
      // Read from this process's informer-fed cache, caught up to a store revision read after the call began
      // (one read shared by concurrent calls): linearizable, and on etcd one round trip for a burst of calls.
      await env.cache.catchUp();
      const name = clusterNameOf(env, input.cluster);
      const record = name === undefined ? undefined : env.cache.cluster(name);
      if (!record || record.status !== 'ACTIVE') throw clusterNotFound();
      // As ECS: an unknown cluster is named first, then an empty list.
      if (refs.length === 0) throw invalidParameter(ecsMessage('tasksEmpty'));
      const cluster = record.clusterName;
      const tasks: Wire<Task>[] = [];
      const failures: { arn: string; reason: string }[] = [];
      const withTags = input.include?.includes('TAGS') ?? false;
      for (const ref of refs) {
        const id = taskIdOf(env, cluster, ref);
        const record = id ? env.cache.task(cluster, id) : undefined;
        if (record) tasks.push(withTags ? record.task : withoutTags(record.task));
        else failures.push({ arn: missingArn(env.scope, 'task', ref), reason: ecsMessage('missing') });
      }
      return { tasks, failures };
    },

    async ListTasks(input: ListTasksRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      if (input.serviceName && input.startedBy) throw invalidParameter('serviceName and startedBy cannot both be given.');
      const instanceId = input.containerInstance ? instanceIdOf(env, cluster, input.containerInstance) ?? '-' : undefined;
      const desired = input.desiredStatus ?? 'RUNNING';
      const page = await pageOf(env.store, keys.tasksOf(cluster), input, { defaultSize: 100, maxSize: 100 }, (e) => {
        const r = parseTaskRecord(e.value, e.key);
        const t = r.task;
        const keep =
          t.desiredStatus === desired &&
          (instanceId === undefined || r.instanceId === instanceId) &&
          (input.family === undefined || t.taskDefinitionArn?.split('/')[1]?.split(':')[0] === input.family) &&
          (input.startedBy === undefined || t.startedBy === input.startedBy) &&
          (input.serviceName === undefined || r.serviceName === input.serviceName) &&
          (input.launchType === undefined || t.launchType === input.launchType);
        return keep ? t.taskArn! : undefined;
      });
      return { taskArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },
  };
}
