import type { ContainerDefinition, TaskDefinition, TaskOverride } from '@aws-sdk/client-ecs';
import { applyContainerOverride } from './task.js';
import type { Wire } from './wire.js';

/**
 * The session protocol between the control plane and an agent, modelled on ECS's Agent Communication
 * Service (ACS): JSON frames `{"type": <shape name>, "message": {…}}` over one WebSocket.
 *
 *   control plane → agent: PayloadMessage (tasks to run or stop, with a sequence number, and the
 *                          credentials of their roles), IAMRoleCredentialsMessage (a role's credentials
 *                          renewed), HeartbeatMessage, ErrorMessage (then the connection closes)
 *   agent → control plane: AckRequest (per PayloadMessage), IAMRoleCredentialsAckRequest,
 *                          HeartbeatAckRequest, TaskHealthChange, TaskAttachmentChange, PublishMetricsRequest
 *
 * Shapes and names follow ACS's model; berth adds the container-definition fields that ECS carries in
 * Docker-specific `dockerConfig` strings as plain members instead (see AcsContainer).
 */

/**
 * berth's one addition to the session, outside ACS's frames: a header of the upgrade response naming the replica's
 * DNS server (`host:port`, `berth server --dns-listen`), so that agents point their containers' resolver at it
 * (through their node-local relay, src/agent/dns-relay.ts). Absent: the replica serves no DNS. An unspecified
 * host (0.0.0.0, ::) means "the address you reached me at".
 */
export const DNS_SERVER_HEADER = 'x-berth-dns-server';
export type AcsFrame =
  | { type: 'PayloadMessage'; message: PayloadMessage }
  | { type: 'HeartbeatMessage'; message: { healthy: boolean; messageId: string } }
  | { type: 'ErrorMessage'; message: { message: string; type?: string } }
  | { type: 'AckRequest'; message: { cluster: string; containerInstance: string; messageId: string } }
  | { type: 'HeartbeatAckRequest'; message: { messageId: string } }
  | { type: 'TaskHealthChange'; message: TaskHealthChange }
  | { type: 'TaskAttachmentChange'; message: TaskAttachmentChange }
  | { type: 'IAMRoleCredentialsMessage'; message: IAMRoleCredentialsMessage }
  | { type: 'IAMRoleCredentialsAckRequest'; message: { messageId: string; expiration: string; credentialsId: string } }
  | { type: 'PublishMetricsRequest'; message: PublishMetricsRequest }
  | { type: 'ExecStartMessage'; message: ExecStartMessage };

/**
 * agent → control plane, once a minute: what its running tasks used over the last interval, from their cgroups.
 * Named after the message the ECS agent sends its telemetry service (TCS); berth carries task totals (the agent
 * sums its containers) rather than TCS's per-container statistic sets, since the control plane only ever needs
 * the task's figures against the task's reservation. The control plane takes figures only for the instance's own
 * running tasks (api/acs/published-metrics.ts).
 */
/**
 * Start an ECS Exec session (berth's own frame; ECS's agent gets these through SSM): the agent opens
 * `EXEC_AGENT_PATH<sessionId>` on the replica its session is on, says `token`, and runs `command` in the container.
 */
export interface ExecStartMessage {
  readonly messageId: string;
  readonly sessionId: string;
  readonly taskArn: string;
  readonly containerName: string;
  readonly command: readonly string[];
  /** A terminal (the client's stdin is one), of this size when given. */
  readonly tty: boolean;
  readonly cols?: number;
  readonly rows?: number;
  readonly token: string;
}

export interface PublishMetricsRequest {
  /** Epoch milliseconds of the readings. */
  readonly timestamp: number;
  readonly taskMetrics: readonly TaskMetric[];
}

export interface TaskMetric {
  readonly taskArn: string;
  /** CPU units (1024 per CPU) used on average since the previous reading. */
  readonly cpuUsed: number;
  /** MiB of memory in use (usage less inactive page cache, as `docker stats` counts it). */
  readonly memoryUsed: number;
}

/** Which of a task's roles credentials are for: its containers' own (taskRoleArn) or the agent's work for it. */
export type RoleType = 'TaskApplication' | 'TaskExecution';

/** Temporary credentials of a task's role, as ACS carries them. Held in memory only, never saved. */
export interface RoleCredentials {
  readonly credentialsId: string;
  readonly roleArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** ISO 8601. */
  readonly expiration: string;
}

/** control plane → agent: new credentials for a task's role, before the ones it holds expire. */
export interface IAMRoleCredentialsMessage {
  readonly messageId: string;
  readonly clusterArn: string;
  readonly taskArn: string;
  readonly roleType: RoleType;
  readonly roleCredentials: RoleCredentials;
}

/**
 * agent → control plane: an awsvpc task's network interface is attached (or gone). In ECS the control
 * plane makes the ENI and knows its address; in berth the agent's CNI IPAM hands out the address, so the
 * agent says what it is.
 */
export interface TaskAttachmentChange {
  readonly taskArn: string;
  readonly status: 'ATTACHED' | 'DELETED';
  readonly privateIPv4Address?: string;
  readonly macAddress?: string;
}

/**
 * agent → control plane: the health of a task's containers changed (berth's counterpart of the health
 * events the ECS agent sends on its telemetry channel). The control plane derives the task's healthStatus.
 */
export interface TaskHealthChange {
  readonly taskArn: string;
  readonly containers: readonly { readonly containerName: string; readonly healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN' }[];
}

export interface PayloadMessage {
  readonly clusterArn: string;
  readonly containerInstanceArn: string;
  readonly messageId: string;
  readonly seqNum: number;
  /** Epoch milliseconds. */
  readonly generatedAt: number;
  readonly tasks: AcsTask[];
}

export interface AcsTask {
  readonly arn: string;
  readonly taskClusterArn: string;
  readonly family: string;
  /** The task definition revision, as a string (ACS's `version`). */
  readonly version: string;
  readonly desiredStatus: 'RUNNING' | 'STOPPED';
  /** The RunTask overrides, JSON-encoded as ACS sends them (already applied to `containers`). */
  readonly overrides: string;
  readonly containers: AcsContainer[];
  readonly volumes: unknown[];
  readonly networkMode: string;
  readonly launchType: string;
  /** vCPUs (ACS sends task cpu as a double) and MiB, when the task definition sets them. */
  readonly cpu?: number;
  readonly memory?: number;
  readonly group?: string;
  readonly serviceName?: string;
  readonly pidMode?: string;
  readonly ipcMode?: string;
  /** Why the control plane wants the task stopped, when it does (berth addition). */
  readonly stoppedReason?: string;
  /**
   * A Fargate task's ephemeral storage in GiB (its `ephemeralStorage.sizeInGiB`, 20 by default): the size of the
   * filesystem its writable layers and task volumes are made on (agent/ephemeral-storage.ts). berth addition.
   */
  readonly ephemeralStorageGiB?: number;
  /**
   * Epoch ms by which every container of a task asked to stop must have stopped: SIGKILL then, whatever its
   * stopTimeout or dependents. A FARGATE_SPOT interruption's two-minute warning ends there. berth addition.
   */
  readonly stopDeadline?: number;
  /** Credentials of the task role (taskRoleArn), for the task's containers. */
  readonly roleCredentials?: RoleCredentials;
  /** Credentials of the task execution role (executionRoleArn), for the agent's pulls, logs and secrets. */
  readonly executionRoleCredentials?: RoleCredentials;
}

/** A container as the agent receives it: the container definition with the task's overrides applied. */
export type AcsContainer = Omit<ContainerDefinition, 'environment'> & {
  readonly containerArn: string;
  /** ACS sends the environment as a map. */
  readonly environment: Record<string, string>;
  /** The override for this container, JSON-encoded (ACS's `overrides`). */
  readonly overrides: string;
};

/** Build the task an agent must run from its task definition and the task's own fields. */
export function toAcsTask(
  td: Wire<TaskDefinition>,
  task: {
    readonly taskArn: string;
    readonly clusterArn: string;
    readonly desiredStatus: 'RUNNING' | 'STOPPED';
    readonly overrides?: TaskOverride;
    readonly containerArns: ReadonlyMap<string, string>;
    readonly group?: string;
    readonly serviceName?: string;
    readonly stoppedReason?: string;
    /** EC2 unless given (FARGATE: the agent holds the task to its task size). */
    readonly launchType?: string;
    readonly ephemeralStorageGiB?: number;
    readonly stopDeadline?: number;
  },
): AcsTask {
  const cpu = task.overrides?.cpu ?? td.cpu;
  const memory = task.overrides?.memory ?? td.memory;
  return {
    arn: task.taskArn,
    taskClusterArn: task.clusterArn,
    family: td.family!,
    version: String(td.revision),
    desiredStatus: task.desiredStatus,
    overrides: JSON.stringify(task.overrides ?? {}),
    containers: (td.containerDefinitions ?? []).map((def) => {
      const c = applyContainerOverride(def, task.overrides);
      const override = task.overrides?.containerOverrides?.find((o) => o.name === def.name);
      return {
        ...c,
        containerArn: task.containerArns.get(c.name!) ?? '',
        environment: Object.fromEntries((c.environment ?? []).map((kv) => [kv.name ?? '', kv.value ?? ''])),
        overrides: JSON.stringify(override ?? {}),
      };
    }),
    volumes: td.volumes ?? [],
    networkMode: td.networkMode ?? 'bridge',
    launchType: task.launchType ?? 'EC2',
    ...(cpu !== undefined ? { cpu: Number(cpu) / 1024 } : {}),
    ...(memory !== undefined ? { memory: Number(memory) } : {}),
    ...(task.group !== undefined ? { group: task.group } : {}),
    ...(task.serviceName !== undefined ? { serviceName: task.serviceName } : {}),
    ...(td.pidMode !== undefined ? { pidMode: td.pidMode } : {}),
    ...(td.ipcMode !== undefined ? { ipcMode: td.ipcMode } : {}),
    ...(task.stoppedReason !== undefined ? { stoppedReason: task.stoppedReason } : {}),
    ...(task.ephemeralStorageGiB !== undefined ? { ephemeralStorageGiB: task.ephemeralStorageGiB } : {}),
    ...(task.stopDeadline !== undefined ? { stopDeadline: task.stopDeadline } : {}),
  };
}

/** Parse one frame; undefined for anything that is not a well-formed frame. */
export function parseFrame(data: string): AcsFrame | undefined {
  try {
    const frame = JSON.parse(data) as { type?: unknown; message?: unknown };
    if (typeof frame.type === 'string' && frame.message && typeof frame.message === 'object') return frame as AcsFrame;
  } catch {
    // fall through
  }
  return undefined;
}
