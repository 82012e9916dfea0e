import type { SubmitContainerStateChangeRequest, SubmitTaskStateChangeRequest } from '@aws-sdk/client-ecs';
import { invalidParameter } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { transact } from '../../store/transact.js';
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

    async SubmitAttachmentStateChanges() {
      return { acknowledgment: 'ACK' };
    },
  };
}
