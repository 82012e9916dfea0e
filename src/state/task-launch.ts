import type { FargateLaunch } from '../model/fargate-launch.js';
import { randomBytes } from 'node:crypto';
import type { AwsVpcConfiguration, Task, TaskDefinition, TaskOverride } from '@aws-sdk/client-ecs';
import { ecsArn, type ArnScope } from '../model/arn.js';
import { addNeeds, capacityOf, remainingCapacity, shortfall } from '../model/container-instance.js';
import type { Tag } from '../model/tags.js';
import { applyContainerOverride, overridesOfEveryContainer, type TaskNeeds } from '../model/task.js';
import { precreatedEni } from '../model/task-eni.js';
import type { Wire } from '../model/wire.js';
import { keys } from './keys.js';
import type { InstanceRecord } from './records/instances.js';
import type { TaskRecord } from './records/tasks.js';
import type { Tx } from '../store/transact.js';
import { parseInstanceRecord } from '../state/records/instances.js';
import { emitTaskStateChange } from './ecs-events.js';
import { capacityProviderKeys } from './capacity-provider-keys.js';
import type { WaitingPlacement } from './records/tasks.js';
import { parseClusterRecord } from './records/clusters.js';
import { invalidParameter } from '../model/errors.js';
import { NOT_ASSOCIATED } from '../model/capacity-strategy.js';

/**
 * Creating tasks on chosen instances, shared by RunTask/StartTask (`api/ecs/tasks.ts`) and the service
 * controller (`controllers/services/`): both reserve and create in one transaction, so that concurrent
 * launches never over-commit an instance.
 */

/** What writing task records needs from around it: the ARN scope and the clock (epoch ms). */
export interface TaskWriteContext {
  readonly scope: ArnScope;
  readonly now: () => number;
}

/** Alike tasks to create: one task definition, overrides, group, tags. */
export interface LaunchSpec {
  readonly cluster: string;
  readonly td: Wire<TaskDefinition>;
  /** Tags propagated to the task (from the task definition or the service); `tags` win on equal keys. */
  readonly propagatedTags: readonly Tag[];
  readonly tags: readonly Tag[];
  readonly overrides: TaskOverride;
  readonly group: string;
  readonly startedBy?: string;
  /** Set for a service's tasks. */
  readonly serviceName?: string;
  /** What one task reserves on its instance. */
  readonly needs: TaskNeeds;
  /** awsvpc tasks: the subnets and security groups their interface is recorded with. */
  readonly awsvpc?: Wire<AwsVpcConfiguration>;
  /** A Fargate task: recorded with its capacity provider and platform, and no container instance. */
  readonly fargate?: FargateLaunch;
  /**
   * Tasks of a capacity provider of an Auto Scaling group: recorded with its name, and a task that finds no room
   * waits in PROVISIONING for its group's capacity (state/capacity-waits.ts) instead of failing.
   */
  readonly capacityProvider?: ProviderLaunch;
  /** ECS Exec may be used on the tasks (ExecuteCommand refuses a task started without it). */
  readonly enableExecuteCommand?: boolean;
}

/** A launch on a capacity provider of an Auto Scaling group. */
export interface ProviderLaunch {
  readonly name: string;
  /** How it is placed once capacity appears: the request's constraints, strategies and required attributes. */
  readonly placement: WaitingPlacement;
  /** Tasks placement found no instance for: they are created waiting. */
  readonly waiting: number;
}

export interface LaunchResult {
  readonly created: TaskRecord[];
  /** Instances that could not take their task after all (gone, not ACTIVE, or full), with ECS's reason. */
  readonly failures: { arn: string; reason: string }[];
}

/** `arn:aws:ecs:<region>:<account>:task/<cluster>/<id>` */
export const taskArnOf = (scope: ArnScope, cluster: string, id: string) => ecsArn(scope, 'task', `${cluster}/${id}`);

/**
 * In the caller's transaction: for each instance id (repeats place several tasks on one instance), re-read
 * the instance, re-check that the task still fits, add its needs to the instance's reservation and write the
 * task record (PROVISIONING, desired RUNNING). Instances that cannot take it are reported, not retried.
 */
export async function launchTasksInTx(ctx: TaskWriteContext, tx: Tx, spec: LaunchSpec, instanceIds: readonly string[]): Promise<LaunchResult> {
  await claimProviderInTx(ctx, tx, spec);
  const created: TaskRecord[] = [];
  const failures: { arn: string; reason: string }[] = [];
  const instances = new Map<string, InstanceRecord>();
  for (const id of instanceIds) {
    const key = keys.containerInstance(spec.cluster, id);
    const instance = instances.get(id) ?? (await tx.getRecord(parseInstanceRecord, key));
    if (!instance || instance.instance.status !== 'ACTIVE') {
      failures.push({ arn: ecsArn(ctx.scope, 'container-instance', `${spec.cluster}/${id}`), reason: 'MISSING' });
      continue;
    }
    const lacking = shortfall(remainingCapacity(capacityOf(instance.instance.registeredResources), instance.reserved), spec.needs);
    if (lacking && spec.capacityProvider) {
      // Its provider's group had room when placement looked, but not now: it waits for room like the rest.
      created.push(waitingTaskInTx(ctx, tx, spec, spec.capacityProvider));
      continue;
    }
    if (lacking) {
      failures.push({ arn: instance.instance.containerInstanceArn!, reason: `RESOURCE:${lacking}` });
      continue;
    }
    const record = newTaskRecord(ctx, spec, instance);
    const updated: InstanceRecord = { ...instance, reserved: addNeeds(instance.reserved, spec.needs) };
    instances.set(id, updated);
    tx.putJson(key, updated);
    tx.putJson(keys.task(spec.cluster, record.id), record);
    emitTaskStateChange(tx, record.task, ctx.now());
    created.push(record);
  }
  for (let i = 0; i < (spec.capacityProvider?.waiting ?? 0); i++) created.push(waitingTaskInTx(ctx, tx, spec, spec.capacityProvider!));
  return { created, failures };
}

/**
 * In the caller's transaction: a task of `spec` waiting for room on its provider's group — PROVISIONING, no
 * instance — and its entry in the index the leader's capacity-wait pass reads (state/capacity-waits.ts).
 */
export function waitingTaskInTx(ctx: TaskWriteContext, tx: Tx, spec: LaunchSpec, provider: ProviderLaunch): TaskRecord {
  const base = newTaskRecord(ctx, spec, undefined);
  const record: TaskRecord = { ...base, task: { ...base.task, lastStatus: 'PROVISIONING' }, waiting: provider.placement };
  tx.putJson(keys.task(spec.cluster, record.id), record);
  emitTaskStateChange(tx, record.task, ctx.now());
  tx.put(capacityProviderKeys.waitingTask(spec.cluster, record.id), provider.name);
  return record;
}

/**
 * A new task record on `instance`, as DescribeTasks will show it: desired RUNNING, and PENDING — or
 * PROVISIONING for an awsvpc task, whose interface has to be set up first (ECS's task lifecycle; RunTask's
 * example in the model's examples file answers an EC2 bridge task PENDING).
 */
export function newTaskRecord(ctx: TaskWriteContext, spec: LaunchSpec, instance: InstanceRecord | undefined): TaskRecord {
  const id = randomBytes(16).toString('hex');
  const arn = taskArnOf(ctx.scope, spec.cluster, id);
  const { td, overrides } = spec;
  const zone = instance?.instance.attributes?.find((a) => a.name === 'ecs.availability-zone')?.value;
  const tags = [...spec.propagatedTags.filter((t) => !spec.tags.some((u) => u.key === t.key)), ...spec.tags];
  const task: Wire<Task> = {
    taskArn: arn,
    clusterArn: ecsArn(ctx.scope, 'cluster', spec.cluster),
    taskDefinitionArn: td.taskDefinitionArn!,
    // A Fargate task runs on a pool host, not on one of the cluster's container instances: ECS shows none.
    ...(spec.fargate || !instance ? {} : { containerInstanceArn: instance.instance.containerInstanceArn! }),
    overrides: overridesOfEveryContainer(td, overrides),
    lastStatus: spec.awsvpc ? 'PROVISIONING' : 'PENDING',
    desiredStatus: 'RUNNING',
    ...(overrides.cpu ?? td.cpu ? { cpu: overrides.cpu ?? td.cpu } : {}),
    ...(overrides.memory ?? td.memory ? { memory: overrides.memory ?? td.memory } : {}),
    containers: (td.containerDefinitions ?? []).map((def) => {
      const c = applyContainerOverride(def, overrides);
      return {
        containerArn: ecsArn(ctx.scope, 'container', `${spec.cluster}/${id}/${randomBytes(16).toString('hex')}`),
        taskArn: arn,
        name: c.name!,
        image: c.image!,
        lastStatus: 'PENDING',
        networkInterfaces: [],
        networkBindings: [],
        healthStatus: 'UNKNOWN',
        cpu: String(c.cpu ?? 0),
        ...(c.memory !== undefined ? { memory: String(c.memory) } : {}),
        ...(c.memoryReservation !== undefined ? { memoryReservation: String(c.memoryReservation) } : {}),
      };
    }),
    createdAt: ctx.now() / 1000,
    version: 1,
    group: spec.group,
    ...(spec.startedBy !== undefined ? { startedBy: spec.startedBy } : {}),
    ...(spec.fargate
      ? {
          launchType: 'FARGATE',
          capacityProviderName: spec.fargate.capacityProviderName,
          platformVersion: spec.fargate.platformVersion,
          platformFamily: spec.fargate.platformFamily,
          ephemeralStorage: { sizeInGiB: spec.fargate.ephemeralStorageGiB },
        }
      : { launchType: 'EC2', ...(spec.capacityProvider ? { capacityProviderName: spec.capacityProvider.name } : {}) }),
    ...(zone ? { availabilityZone: zone } : {}),
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    healthStatus: 'UNKNOWN',
    enableExecuteCommand: spec.enableExecuteCommand ?? false,
    tags,
    attachments: spec.awsvpc ? [precreatedEni(spec.awsvpc)] : [],
  };
  return {
    cluster: spec.cluster,
    id,
    ...(instance ? { instanceId: instance.id } : {}),
    task,
    needs: spec.needs,
    ...(spec.serviceName !== undefined ? { serviceName: spec.serviceName } : {}),
  };
}

/**
 * Tasks on a capacity provider: the provider is marked in use in this transaction (PutClusterCapacityProviders reads
 * the mark, so a launch and the provider's removal never both commit unseen), and a host group's provider must still
 * be the cluster's (a removal that committed first makes this launch's retry refuse, with ECS's message).
 */
async function claimProviderInTx(ctx: TaskWriteContext, tx: Tx, spec: LaunchSpec): Promise<void> {
  const name = spec.capacityProvider?.name ?? spec.fargate?.capacityProviderName;
  if (name === undefined) return;
  if (spec.capacityProvider) {
    const cluster = await tx.getRecord(parseClusterRecord, keys.cluster(spec.cluster));
    if (cluster && !cluster.capacityProviders.includes(name)) throw invalidParameter(NOT_ASSOCIATED);
  }
  tx.put(capacityProviderKeys.inUse(spec.cluster, name), String(ctx.now()));
}
