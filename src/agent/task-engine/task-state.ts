import type { AcsTask } from '../../model/acs.js';

/**
 * What the agent knows about one task, persisted after every change so a restarted agent can pick up
 * where it left off. Container statuses only move forward:
 *
 *   NONE ──pull──▶ PULLED ──create──▶ CREATED ──start──▶ RUNNING ──exit/kill──▶ STOPPED
 *     └──────────────┴──────────────────┴─── (desired STOPPED before start) ──────▶ STOPPED
 *
 * The task's own status is derived from its containers (see deriveTaskStatus).
 */
export const containerKnownStatuses = ['NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED'] as const;
export type ContainerKnownStatus = (typeof containerKnownStatuses)[number];

export const isAtLeast = (status: ContainerKnownStatus, than: ContainerKnownStatus) =>
  containerKnownStatuses.indexOf(status) >= containerKnownStatuses.indexOf(than);

export interface ContainerState {
  readonly name: string;
  readonly essential: boolean;
  known: ContainerKnownStatus;
  /** The runtime's id for the container, once created. */
  runtimeId?: string;
  imageDigest?: string;
  /** The pulled image's id (config digest), kept so image cleanup can tell what is in use. */
  imageId?: string;
  exitCode?: number;
  /** ECS's reason string (CannotPullContainerError: …, OutOfMemoryError: …). */
  reason?: string;
  networkBindings: { bindIP: string; containerPort: number; hostPort: number; protocol: 'tcp' | 'udp' }[];
  /** Network attachment id (bridge/none mode: one per container). */
  networkId?: string;
  /** Epoch ms when SIGTERM was sent, to know when SIGKILL is due. */
  stopSignalAt?: number;
  /** Epoch ms when SIGKILL was sent (sent once; the exit follows). */
  killSignalAt?: number;
  /** Its root filesystem was unmounted once it stopped (the writable layer stays until cleanup). */
  rootfsReleased?: boolean;
  /** Epoch ms when the runtime created it, started it, and when its process exited (task metadata). */
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** Epoch ms since which the container has waited for its dependencies (for startTimeout). */
  waitingSince?: number;
  /** The container's secret path segment on the task metadata endpoint (ECS_CONTAINER_METADATA_URI_V4). */
  metadataToken?: string;
  /** Its address, when it has a network of its own (bridge, awsvpc). */
  ipv4Address?: string;
  /** From its health check (HEALTHY | UNHEALTHY | UNKNOWN); UNKNOWN without one. */
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  logPath?: string;
}

export type TaskKnownStatus = 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

export interface TaskState {
  readonly arn: string;
  /** The task as last received from the control plane. */
  spec: AcsTask;
  desired: 'RUNNING' | 'STOPPED';
  known: TaskKnownStatus;
  /** Why the agent decided to stop the task (an essential container exited, a pull failed…). */
  stopReason?: string;
  /** Epoch ms at which every container still running is SIGKILLed (the spec's stopDeadline, once asked to stop). */
  stopDeadline?: number;
  containers: ContainerState[];
  /** The task's own network (awsvpc): one namespace and address shared by all its containers. */
  taskNetwork?: { id: string; netnsPath?: string; ipv4Address?: string; macAddress?: string };
  pullStartedAt?: number;
  pullStoppedAt?: number;
  executionStoppedAt?: number;
  /** Epoch ms after which the stopped task's containers and files are removed. */
  cleanupAt?: number;
  /** Epoch ms before which a task the control plane stops is not signalled (Service Connect's drain: its bound). */
  drainUntil?: number;
  /** The drain ended before its bound (the proxies no longer send the task requests and it holds none). */
  drained?: boolean;
  /**
   * The id under which the task's containers get their task role's credentials
   * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI): made when its first container is created, saved so that it
   * still answers after an agent restart. The credentials themselves are never saved (agent/task-credentials.ts).
   */
  credentialsId?: string;
}

/** The task status its containers add up to. */
export function deriveTaskStatus(state: TaskState): TaskKnownStatus {
  const cs = state.containers;
  if (cs.every((c) => c.known === 'STOPPED')) return 'STOPPED';
  if (state.desired === 'RUNNING' && cs.every((c) => c.known === 'RUNNING' || (c.known === 'STOPPED' && !c.essential))) {
    return 'RUNNING';
  }
  // Stopping a task that ran: its containers are being signalled.
  if (state.desired === 'STOPPED' && (state.known === 'RUNNING' || state.known === 'STOPPING')) return 'STOPPING';
  if (state.known === 'RUNNING') return 'RUNNING';
  return cs.some((c) => c.known !== 'NONE') || state.pullStartedAt !== undefined ? 'PENDING' : 'PROVISIONING';
}

export function newTaskState(spec: AcsTask): TaskState {
  return {
    arn: spec.arn,
    spec,
    desired: spec.desiredStatus,
    known: 'PROVISIONING',
    containers: spec.containers.map((c) => ({
      name: c.name!,
      essential: c.essential !== false,
      known: 'NONE',
      networkBindings: [],
    })),
  };
}

/** The last path segment of a task ARN: its id. */
export const taskIdOf = (arn: string) => arn.split('/').at(-1)!;
