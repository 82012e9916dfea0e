import type { SubmitAttachmentStateChangesRequest, SubmitContainerStateChangeRequest, SubmitTaskStateChangeRequest } from '@aws-sdk/client-ecs';
import { parseOwnEcsArn } from '../../model/arn.js';
import { withAttachmentStatus } from '../../model/task-eni.js';
import { saveTaskInTx } from '../../state/task-stop.js';
import { invalidParameter } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { transact, type Tx } from '../../store/transact.js';
import { activeCluster } from './clusters.js';
import type { EcsEnv } from './env.js';
import { applyStateChange } from '../../state/task-reports.js';
import { taskIdOf } from './tasks.js';
import { parseTaskRecord } from '../../state/records/tasks.js';

/** The agent's reports on its tasks: what ECS's agent calls to tell the control plane what happened. */
export function stateChangeOperations(env: EcsEnv) {
  async function update(clusterRef: string | undefined, taskRef: string | undefined, change: Parameters<typeof applyStateChange>[3]) {
    const cluster = (await activeCluster(env, clusterRef)).clusterName;
    const id = taskRef ? taskIdOf(env, cluster, taskRef) : undefined;
    await transact(env.store, async (tx) => {
      const record = id ? await tx.getRecord(parseTaskRecord, keys.task(cluster, id)) : undefined;
      if (!record) throw invalidParameter(`The task ${taskRef ?? ''} was not found in cluster ${cluster}.`);
      await applyStateChange(env, tx, record, change);
    });
    return { acknowledgment: 'ACK' };
  }

  return {
    SubmitTaskStateChange: (input: Wire<SubmitTaskStateChangeRequest>) => update(input.cluster, input.task, input),

    SubmitContainerStateChange: (input: SubmitContainerStateChangeRequest) =>
      update(input.cluster, input.task, {
        containers: [
          {
            ...(input.containerName !== undefined ? { containerName: input.containerName } : {}),
            ...(input.runtimeId !== undefined ? { runtimeId: input.runtimeId } : {}),
            ...(input.status !== undefined ? { status: input.status } : {}),
            ...(input.exitCode !== undefined ? { exitCode: input.exitCode } : {}),
            ...(input.reason !== undefined ? { reason: input.reason } : {}),
            ...(input.networkBindings !== undefined ? { networkBindings: input.networkBindings } : {}),
          },
        ],
      }),

    /**
     * An agent's word on attachments (`arn:aws:ecs:<region>:<account>:attachment/<id>`) of the cluster's
     * tasks: each status is applied forward only, all in one transaction, or none when one names an
     * attachment no task of the cluster has.
     */
    async SubmitAttachmentStateChanges(input: SubmitAttachmentStateChangesRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const changes = input.attachments ?? [];
      if (changes.length === 0) throw invalidParameter('attachments can not be empty.');
      const wanted = changes.map((c) => {
        const id = parseOwnEcsArn(env.scope, c.attachmentArn!, 'attachment');
        if (id === undefined) throw invalidParameter(`attachments.attachmentArn: '${c.attachmentArn}' is not an attachment ARN of this Region and account.`);
        return { arn: c.attachmentArn!, id, status: c.status! };
      });
      await transact(env.store, async (tx) => {
        const changed = new Map<string, TaskRecord>();
        for (const w of wanted) {
          const record = await taskWithAttachment(tx, cluster, w.id, changed);
          if (!record) throw invalidParameter(`attachments.attachmentArn: the attachment ${w.arn} was not found in cluster ${cluster}.`);
          const task = withAttachmentStatus(record.task, w.id, w.status)!;
          if (task !== record.task) changed.set(record.id, { ...record, task: { ...task, version: (task.version ?? 0) + 1 } });
        }
        for (const record of changed.values()) saveTaskInTx(tx, record, env.now());
      });
      return { acknowledgment: 'ACK' };
    },
  };
}

/** The task of `cluster` that has attachment `id` (as changed earlier in the same call, if it was). */
async function taskWithAttachment(tx: Tx, cluster: string, id: string, changed: ReadonlyMap<string, TaskRecord>): Promise<TaskRecord | undefined> {
  for (const record of changed.values()) if (record.task.attachments?.some((a) => a.id === id)) return record;
  let after: string | undefined;
  for (;;) {
    const page = await tx.range(keys.tasksOf(cluster), { after, limit: 200 });
    for (const e of page.entries) {
      if (!e.value.includes(id)) continue;
      const record = parseTaskRecord(e.value, e.key);
      if (record.task.attachments?.some((a) => a.id === id)) return changed.get(record.id) ?? record;
    }
    if (!page.more || page.entries.length === 0) return undefined;
    after = page.entries.at(-1)!.key;
  }
}
