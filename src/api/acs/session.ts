import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { parseFrame, toAcsTask, type AcsFrame, type ExecStartMessage, type AcsTask, type PublishMetricsRequest, type TaskAttachmentChange, type TaskHealthChange } from '../../model/acs.js';
import { spotStopDeadline } from '../../model/spot-interruption.js';
import { keys } from '../../state/keys.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import type { TaskDefinitionRecord } from '../../state/records/task-definitions.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { readJson, transact, type Tx, readRecord } from '../../store/transact.js';
import { applyAttachmentChange, applyHealthChange } from '../../state/task-reports.js';
import { background } from '../../process/background.js';
import type { EcsEnv } from '../ecs/env.js';
import { taskRoles, type SessionCredentials } from './task-role-credentials.js';
import { parseTaskRecord } from '../../state/records/tasks.js';
import { desiredForAgent } from '../../state/task-stop.js';
import { parseTaskDefinitionRecord } from '../../state/records/task-definitions.js';
import type { TaskFigures } from '../../metrics/ecs-utilization.js';
import { checkPublishedMetrics } from './published-metrics.js';

export interface SessionOptions {
  readonly ws: WebSocket;
  readonly env: EcsEnv;
  readonly cluster: string;
  readonly instance: InstanceRecord;
  readonly log: FastifyBaseLogger;
  readonly heartbeatMs: number;
  readonly onClose: () => void;
  /** Issues and renews the credentials of tasks' roles (absent: tasks get none). */
  readonly credentials?: SessionCredentials;
  /** Where the checked figures of PublishMetricsRequest go (absent: they are dropped). */
  readonly utilization?: { add(cluster: string, figures: readonly TaskFigures[]): void };
}

/** Unacknowledged payloads are sent again after this long. */
const RESEND_AFTER_MS = 15_000;

/**
 * One agent's session. Level-triggered: whenever a task on the instance changes, the session compares
 * what the agent was last told (desired status) with the store and sends a PayloadMessage for the
 * difference; on (re)connect it sends every task that has not stopped. The agent acknowledges each
 * payload; unacknowledged ones are sent again.
 */
export class AgentSession {
  private seqNum = 0;
  private lastFrameAt = Date.now();
  private lastHeartbeatAt = 0;
  /** Task id → the desired status the agent was last sent. */
  private readonly told = new Map<string, string>();
  private readonly unacked = new Map<string, { sentAt: number; tasks: AcsTask[] }>();
  private readonly dirty = new Set<string>();
  private flushing?: Promise<void>;
  private closed = false;
  private renewing = false;
  private readonly tdCache = new Map<string, TaskDefinitionRecord>();

  constructor(private readonly o: SessionOptions) {
    o.ws.on('message', (data) => this.receive(data.toString()));
    o.ws.on('pong', () => (this.lastFrameAt = Date.now()));
    // The agent's pings are its heartbeats.
    o.ws.on('ping', () => (this.lastFrameAt = Date.now()));
    o.ws.on('close', () => {
      this.closed = true;
      o.onClose();
    });
    o.ws.on('error', (err) => o.log.warn({ err }, 'agent session error'));
  }

  /** Push every task of the instance that has not stopped (used on connect). */
  async sendAllTasks(): Promise<void> {
    // Everything committed before the agent connected; later changes arrive through taskChanged.
    await this.o.env.cache.catchUp();
    for (const id of this.o.env.cache.liveTaskIds(this.o.cluster, this.o.instance.id)) this.dirty.add(id);
    this.schedule();
  }

  taskChanged(taskId: string): void {
    this.dirty.add(taskId);
    this.schedule();
  }

  /** Periodic duties: heartbeat, resend, and dropping a silent agent. */
  tick(now: number, silenceMs: number): void {
    if (this.closed) return;
    if (now - this.lastFrameAt > silenceMs) {
      this.o.log.warn({ silentMs: now - this.lastFrameAt }, 'agent went silent; dropping its session');
      this.o.ws.terminate();
      return;
    }
    if (now - this.lastHeartbeatAt >= this.o.heartbeatMs) {
      this.lastHeartbeatAt = now;
      this.send({ type: 'HeartbeatMessage', message: { healthy: true, messageId: randomUUID() } });
    }
    for (const [messageId, pending] of this.unacked) {
      if (now - pending.sentAt >= RESEND_AFTER_MS) {
        this.unacked.delete(messageId);
        this.sendPayload(pending.tasks);
      }
    }
    if (this.o.credentials && !this.renewing) {
      this.renewing = true;
      void background(this.o.log, 'renew task role credentials', () => this.renewCredentials(this.o.credentials!)).finally(() => (this.renewing = false));
    }
  }

  /** Credentials past half their life, renewed and sent (IAMRoleCredentialsMessage, as ACS does). */
  private async renewCredentials(credentials: SessionCredentials): Promise<void> {
    for (const r of await credentials.renewDue()) {
      if (!r.credentials) {
        this.o.log.warn({ task: r.taskArn, roleType: r.roleType, err: r.error }, 'could not renew the credentials of a task role');
        continue;
      }
      this.send({
        type: 'IAMRoleCredentialsMessage',
        message: { messageId: randomUUID(), clusterArn: this.clusterArn(), taskArn: r.taskArn, roleType: r.roleType, roleCredentials: r.credentials },
      });
    }
  }

  /** Ask the agent to open an ECS Exec session (api/exec/); false once the session is closed. */
  sendExecStart(message: ExecStartMessage): boolean {
    if (this.closed) return false;
    this.send({ type: 'ExecStartMessage', message });
    return true;
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.o.ws.close(code, reason);
  }

  private receive(data: string): void {
    this.lastFrameAt = Date.now();
    const frame = parseFrame(data);
    if (!frame) {
      this.o.log.warn('malformed frame from agent');
      return;
    }
    if (frame.type === 'AckRequest') this.unacked.delete(frame.message.messageId);
    if (frame.type === 'TaskHealthChange') {
      const change = frame.message;
      void background(this.o.log, 'record task health', () => this.recordHealth(change), { task: change.taskArn });
    }
    if (frame.type === 'PublishMetricsRequest') this.recordMetrics(frame.message);
    if (frame.type === 'TaskAttachmentChange') {
      const change = frame.message;
      void background(this.o.log, 'record a task attachment', () => this.recordAttachment(change), { task: change.taskArn });
    }
  }

  /** An agent's figures for its tasks: only its own running tasks' are taken (published-metrics.ts). */
  private recordMetrics(message: PublishMetricsRequest): void {
    const { accepted, refused } = checkPublishedMetrics(message, { cluster: this.o.cluster, instanceId: this.o.instance.id }, (id) =>
      this.o.env.cache.tasks.get(keys.task(this.o.cluster, id)),
    );
    // A task that stopped between the agent's reading and now is ordinary; anything else is worth a line.
    if (refused.some((r) => !r.reason.startsWith('the task is'))) this.o.log.warn({ refused }, 'refused task metrics from the agent');
    if (accepted.length > 0) this.o.utilization?.add(this.o.cluster, accepted);
  }

  /** The address the agent gave one of this instance's awsvpc tasks. */
  private async recordAttachment(change: TaskAttachmentChange): Promise<void> {
    await transact(this.o.env.store, async (tx) => {
      const record = await this.ownTask(tx, change.taskArn);
      if (record) applyAttachmentChange(tx, record, change, this.o.env.now());
    });
  }

  /** Health the agent reports for one of this instance's tasks. */
  private async recordHealth(change: TaskHealthChange): Promise<void> {
    await transact(this.o.env.store, async (tx) => {
      const record = await this.ownTask(tx, change.taskArn);
      if (!record) return;
      const td = await this.taskDefinition(record.task.taskDefinitionArn!);
      const essential = (name: string) => td?.taskDefinition.containerDefinitions?.find((c) => c.name === name)?.essential !== false;
      await applyHealthChange(tx, record, change.containers, essential, this.o.env.now());
    });
  }

  /** A task of this instance by ARN; never one of another instance's (an agent speaks for its own). */
  private async ownTask(tx: Tx, taskArn: unknown): Promise<TaskRecord | undefined> {
    if (typeof taskArn !== 'string') return undefined;
    const record = await tx.getRecord(parseTaskRecord, keys.task(this.o.cluster, taskArn.split('/').at(-1)!));
    return record?.instanceId === this.o.instance.id ? record : undefined;
  }

  private schedule(): void {
    if (this.flushing || this.closed) return;
    this.flushing = background(this.o.log, 'send tasks to the agent', () => this.flush()).finally(() => {
      this.flushing = undefined;
      if (this.dirty.size > 0) this.schedule();
    });
  }

  private async flush(): Promise<void> {
    const flushAt = this.o.env.spans?.now() ?? 0;
    const ids = [...this.dirty];
    this.dirty.clear();
    const tasks: AcsTask[] = [];
    const firstPushes: string[] = [];
    for (const id of ids) {
      // From the tasks informer that reported the change: already parsed, at least as new as the change.
      const record = this.o.env.cache.tasks.get(keys.task(this.o.cluster, id));
      if (!record || record.instanceId !== this.o.instance.id) continue;
      if (record.task.lastStatus === 'STOPPED') {
        this.told.delete(id);
        this.o.credentials?.forget(record.task.taskArn!);
        continue;
      }
      const desired = desiredForAgent(record);
      if (this.told.get(id) === desired) continue;
      const acs = await this.toAcs(record);
      if (!acs) continue;
      if (desired === 'RUNNING' && !this.told.has(id)) firstPushes.push(acs.arn);
      this.told.set(id, desired);
      tasks.push(acs);
    }
    // Keep frames modest: ten tasks a payload, like RunTask's own limit.
    for (let i = 0; i < tasks.length; i += 10) this.sendPayload(tasks.slice(i, i + 10));
    // The control plane's part of a start ends here (its own line: the push may come before RunTask logs).
    for (const arn of firstPushes) {
      this.o.env.spans?.begin(arn, 'server.push', flushAt);
      this.o.env.spans?.mark(arn, 'server.pushed');
      this.o.env.spans?.flush(arn);
    }
  }

  /** A task definition by ARN (immutable, so cached for the session). */
  private async taskDefinition(arn: string): Promise<TaskDefinitionRecord | undefined> {
    let td = this.tdCache.get(arn);
    if (!td) {
      const [family, revision] = arn.split('/')[1]!.split(':');
      td = await readRecord(this.o.env.store, parseTaskDefinitionRecord, keys.taskDefinition(family!, Number(revision)));
      if (td) this.tdCache.set(arn, td);
    }
    return td;
  }

  private async toAcs(record: TaskRecord): Promise<AcsTask | undefined> {
    const arn = record.task.taskDefinitionArn!;
    const td = await this.taskDefinition(arn);
    if (!td) {
      this.o.log.error({ task: record.task.taskArn, taskDefinition: arn }, 'task definition of a live task is missing');
      return undefined;
    }
    const acs = toAcsTask(td.taskDefinition, {
      taskArn: record.task.taskArn!,
      clusterArn: record.task.clusterArn!,
      desiredStatus: desiredForAgent(record),
      ...(record.task.overrides ? { overrides: record.task.overrides } : {}),
      containerArns: new Map((record.task.containers ?? []).map((c) => [c.name!, c.containerArn!])),
      ...(record.task.group !== undefined ? { group: record.task.group } : {}),
      ...(record.serviceName !== undefined ? { serviceName: record.serviceName } : {}),
      ...(record.task.stoppedReason !== undefined ? { stoppedReason: record.task.stoppedReason } : {}),
      ...(record.task.launchType !== undefined ? { launchType: record.task.launchType } : {}),
      ...(spotStopDeadline(record.task) !== undefined ? { stopDeadline: spotStopDeadline(record.task)! } : {}),
      ...(record.task.launchType === 'FARGATE' && record.task.ephemeralStorage?.sizeInGiB !== undefined
        ? { ephemeralStorageGiB: record.task.ephemeralStorage.sizeInGiB }
        : {}),
    });
    const roles = taskRoles(td.taskDefinition, record.task.overrides);
    if (!this.o.credentials || roles.length === 0 || acs.desiredStatus !== 'RUNNING') return acs;
    const { credentials, failures } = await this.o.credentials.forPush(acs.arn, roles);
    for (const f of failures) this.o.log.warn({ task: acs.arn, role: f.roleArn, roleType: f.roleType, err: f.error }, 'could not issue the credentials of a task role; trying again later');
    const task = credentials.get('TaskApplication');
    const execution = credentials.get('TaskExecution');
    return { ...acs, ...(task ? { roleCredentials: task } : {}), ...(execution ? { executionRoleCredentials: execution } : {}) };
  }

  private clusterArn(): string {
    return this.o.instance.instance.containerInstanceArn!.replace(/container-instance\/([^/]+)\/.*$/, 'cluster/$1');
  }

  private sendPayload(tasks: AcsTask[]): void {
    const messageId = randomUUID();
    this.unacked.set(messageId, { sentAt: Date.now(), tasks });
    this.send({
      type: 'PayloadMessage',
      message: {
        clusterArn: this.clusterArn(),
        containerInstanceArn: this.o.instance.instance.containerInstanceArn!,
        messageId,
        seqNum: ++this.seqNum,
        generatedAt: Date.now(),
        tasks,
      },
    });
  }

  private send(frame: AcsFrame): void {
    if (!this.closed) this.o.ws.send(JSON.stringify(frame));
  }
}

