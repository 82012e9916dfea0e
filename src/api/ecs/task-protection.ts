/**
 * Task scale-in protection: UpdateTaskProtection and GetTaskProtection. The protection is kept on the task's
 * record (`protection.expiresAt`), written in a transaction on that record so it never loses a concurrent agent
 * report, and read by the service controller when it chooses tasks to stop. Only a service's tasks can be
 * protected; anything else is a per-task failure, never a failed call.
 */
import type { GetTaskProtectionRequest, UpdateTaskProtectionRequest } from '@aws-sdk/client-ecs';
import { invalidParameter } from '../../model/errors.js';
import { MAX_PROTECTION_TASKS, protectedTaskOf, protectionMinutes } from '../../model/task-protection.js';
import { keys } from '../../state/keys.js';
import { parseTaskRecord, type TaskRecord } from '../../state/records/tasks.js';
import { readRecord, transact } from '../../store/transact.js';
import { activeCluster } from './clusters.js';
import type { EcsEnv } from './env.js';
import { taskArn, taskIdOf } from './tasks.js';

interface Failure {
  arn: string;
  reason: string;
  detail?: string;
}

/** Why a task cannot be protected, as the failure ECS lists it with; undefined when it can. */
function refusal(record: TaskRecord | undefined, arn: string): Failure | undefined {
  if (!record) return { arn, reason: 'MISSING' };
  if (!record.serviceName) return { arn, reason: 'TASK_NOT_VALID', detail: 'The task is not part of a service: only service tasks can be protected.' };
  if (record.task.lastStatus === 'STOPPED') return { arn, reason: 'TASK_NOT_VALID', detail: 'The task is stopped.' };
  return undefined;
}

function checkTasks(tasks: readonly string[] | undefined): readonly string[] {
  const list = tasks ?? [];
  if (list.length < 1 || list.length > MAX_PROTECTION_TASKS) {
    throw invalidParameter(`tasks: give between 1 and ${MAX_PROTECTION_TASKS} task ids or ARNs.`);
  }
  return list;
}

export function taskProtectionOperations(env: EcsEnv) {
  /** The ARN a failure names: the ARN as given, or the task's ARN built from an id. */
  const arnOf = (cluster: string, ref: string) => (ref.startsWith('arn:') ? ref : taskArn(env, cluster, ref));

  return {
    async UpdateTaskProtection(input: UpdateTaskProtectionRequest) {
      const refs = checkTasks(input.tasks);
      const minutes = input.protectionEnabled ? protectionMinutes(input.expiresInMinutes) : undefined;
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const protectedTasks: ReturnType<typeof protectedTaskOf>[] = [];
      const failures: Failure[] = [];
      for (const ref of refs) {
        const id = taskIdOf(env, cluster, ref);
        const outcome = await transact(env.store, async (tx): Promise<{ failure: Failure } | { done: ReturnType<typeof protectedTaskOf> }> => {
          const record = id ? await tx.getRecord(parseTaskRecord, keys.task(cluster, id)) : undefined;
          const refused = refusal(record, arnOf(cluster, ref));
          if (refused) return { failure: refused };
          if (!record) return { failure: { arn: arnOf(cluster, ref), reason: 'MISSING' } };
          // The period always restarts from now, as ECS resets expiresInMinutes on every call.
          const now = env.now();
          const { protection: _old, ...rest } = record;
          const next: TaskRecord = minutes !== undefined ? { ...record, protection: { expiresAt: now + minutes * 60_000 } } : rest;
          tx.putJson(keys.task(cluster, id!), next);
          return { done: protectedTaskOf(record.task.taskArn!, next.protection, now) };
        });
        if ('failure' in outcome) failures.push(outcome.failure);
        else protectedTasks.push(outcome.done);
      }
      return { protectedTasks, failures };
    },

    async GetTaskProtection(input: GetTaskProtectionRequest) {
      const refs = checkTasks(input.tasks);
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const now = env.now();
      const protectedTasks: ReturnType<typeof protectedTaskOf>[] = [];
      const failures: Failure[] = [];
      for (const ref of refs) {
        const id = taskIdOf(env, cluster, ref);
        const record = id ? await readRecord(env.store, parseTaskRecord, keys.task(cluster, id)) : undefined;
        const refused = refusal(record, arnOf(cluster, ref));
        if (refused) failures.push(refused);
        else if (record) protectedTasks.push(protectedTaskOf(record.task.taskArn!, record.protection, now));
      }
      return { protectedTasks, failures };
    },
  };
}
