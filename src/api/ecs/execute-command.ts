import { createHash, randomBytes } from 'node:crypto';
import type { ExecuteCommandRequest, ExecuteCommandResponse } from '@aws-sdk/client-ecs';
import { ServiceError, invalidParameter } from '../../model/errors.js';
import { execAuditTarget } from '../../model/exec-audit.js';
import { EXEC_CLIENT_PATH, splitCommand } from '../../model/exec-stream.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import { parseExecSessionRecord, type ExecSessionRecord } from '../../state/records/exec-sessions.js';
import { parseInstanceRecord } from '../../state/records/instances.js';
import { parseTaskRecord } from '../../state/records/tasks.js';
import { readRecord, transact } from '../../store/transact.js';
import type { CallContext } from '../protocol/json-rpc.js';
import { activeCluster } from './clusters.js';
import type { EcsEnv } from './env.js';
import { findTaskDefinition } from './task-definitions.js';
import { taskIdOf } from './tasks.js';

/** How long the client has to open the stream with the session's token (SSM's tokens are short-lived too). */
export const EXEC_TOKEN_TTL_MS = 60_000;

/** ECS's answer for a task run without enableExecuteCommand (or whose exec agent is not running). */
export const EXEC_NOT_ENABLED =
  'The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try again or run a new task with execute command enabled and try again.';

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * ExecuteCommand: checks the task and container can take a session, records the session for its stream (one use,
 * EXEC_TOKEN_TTL_MS to open it) and answers ECS's shape; the session itself runs on the stream (api/exec/). The caller
 * was authorized for ecs:ExecuteCommand on the cluster and task before this runs (iam-actions.ts).
 */
export function executeCommandOperations(env: EcsEnv) {
  return {
    async ExecuteCommand(input: ExecuteCommandRequest, call: CallContext): Promise<Wire<ExecuteCommandResponse>> {
      const clusterRecord = await activeCluster(env, input.cluster);
      const cluster = clusterRecord.clusterName;
      if (input.interactive !== true) throw invalidParameter('Interactive is the only mode supported currently.');
      let words: string[];
      try {
        words = splitCommand(input.command ?? '');
      } catch (error) {
        throw invalidParameter(`command: ${(error as Error).message}.`);
      }
      if (words.length === 0) throw invalidParameter('command: a command to run is required.');
      const id = taskIdOf(env, cluster, input.task!);
      const record = id ? await readRecord(env.store, parseTaskRecord, keys.task(cluster, id)) : undefined;
      if (!record) throw invalidParameter('The referenced task was not found.');
      const task = record.task;
      if (!task.enableExecuteCommand) throw invalidParameter(EXEC_NOT_ENABLED);
      if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') {
        throw invalidParameter(`The execute command failed because the task is ${task.lastStatus} (desired ${task.desiredStatus}): only a RUNNING task takes commands.`);
      }
      const containers = task.containers ?? [];
      if (input.container === undefined && containers.length > 1) {
        throw invalidParameter(`container: the task has ${containers.length} containers (${containers.map((c) => c.name).join(', ')}); name the one to run the command in.`);
      }
      const container = input.container === undefined ? containers[0] : containers.find((c) => c.name === input.container);
      if (!container) throw invalidParameter(`container: the task has no container named '${input.container}'.`);
      if (container.lastStatus !== 'RUNNING') {
        throw invalidParameter(`The execute command failed because container '${container.name}' is ${container.lastStatus}: only a RUNNING container takes commands.`);
      }
      const instance = record.instanceId ? await readRecord(env.store, parseInstanceRecord, keys.containerInstance(cluster, record.instanceId)) : undefined;
      if (!instance?.instance.agentConnected) {
        throw new ServiceError('TargetNotConnectedException', "The execute command cannot run: the agent of the task's host is not connected to berth.");
      }

      const sessionId = `ecs-execute-command-${randomBytes(10).toString('hex')}`;
      const td = await findTaskDefinition(env, task.taskDefinitionArn!);
      const audit = execAuditTarget(clusterRecord.configuration?.executeCommandConfiguration, td?.taskDefinition.containerDefinitions?.find((c) => c.name === container.name), sessionId);
      if (audit?.fromOverride && env.logGroupExists && !(await env.logGroupExists(audit.logGroupName))) {
        throw invalidParameter(
          `executeCommandConfiguration.logConfiguration.cloudWatchLogGroupName: the cluster's log group '${audit.logGroupName}' does not exist; create it (aws logs create-log-group) so sessions can be recorded.`,
        );
      }
      const token = randomBytes(32).toString('base64url');
      const now = env.now();
      const session: ExecSessionRecord = {
        sessionId,
        cluster,
        taskId: record.id,
        taskArn: task.taskArn!,
        containerName: container.name!,
        command: input.command!,
        principalArn: call.principal.arn,
        tokenSha256: sha256Hex(token),
        createdAt: now,
        expiresAt: now + EXEC_TOKEN_TTL_MS,
        ...(audit ? { audit: { logGroupName: audit.logGroupName, logStreamName: audit.logStreamName } } : {}),
      };
      await transact(env.store, async (tx) => {
        // Sessions granted and never opened are cleared here, a page at a time: none outlives the next grant by much.
        const { entries } = await tx.range(keys.execSessions(), { limit: 50 });
        for (const e of entries) if (parseExecSessionRecord(e.value, e.key).expiresAt <= now) tx.delete(e.key);
        tx.putJson(keys.execSession(sessionId), session);
      });
      call.log.info({ sessionId, principal: call.principal.arn, task: task.taskArn, container: container.name, command: input.command }, 'ECS Exec session granted');
      return {
        clusterArn: clusterRecord.clusterArn,
        containerArn: container.containerArn!,
        containerName: container.name!,
        interactive: true,
        taskArn: task.taskArn!,
        session: { sessionId, streamUrl: `ws://${call.host}${EXEC_CLIENT_PATH}${sessionId}`, tokenValue: token },
      };
    },
  };
}
