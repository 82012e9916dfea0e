import type { Logger } from 'pino';
import type { StartSpans } from '../../process/spans.js';
import type { ImageService, RegistryCredentials } from '../../image/image-service.js';
import type { NetworkService, PortAllocator } from '../../network/network.js';
import type { UserDatabase } from '../../runtime/process-from-image.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { ImagePullBehavior } from '../config.js';
import type { TaskAttachmentChange, TaskHealthChange } from '../../model/acs.js';
import type { TaskStorage } from '../ephemeral-storage.js';
import type { VolumeStore } from './volumes.js';
import type { TaskState } from './task-state.js';
import type { Timers } from './timers.js';

/** Everything a task manager acts through. Real implementations in production, fakes in unit tests. */
export interface EngineDeps {
  readonly runtime: Runtime;
  readonly images: ImageService;
  readonly network: NetworkService;
  readonly ports: PortAllocator;
  /** Where per-container files live: logs, /etc/hosts, /etc/resolv.conf. */
  readonly containerFiles: ContainerFiles;
  readonly settings: EngineSettings;
  /** Save a task's state durably before acting on the next step. */
  persist(state: TaskState): Promise<void>;
  /** Forget a task's saved state (after cleanup). */
  forget(arn: string): Promise<void>;
  /** Tell the control plane the task's current state; coalesced and retried by the reporter. */
  report(state: TaskState): void;
  /** Tell the control plane its containers' health changed (over the session). */
  reportHealth?(change: TaskHealthChange): void;
  /** Tell the control plane an awsvpc task's interface came or went (over the session). */
  reportAttachment?(change: TaskAttachmentChange): void;
  /** Task volumes on this host. */
  readonly volumes: VolumeStore;
  /**
   * Size-limited filesystems for tasks with ephemeral storage (Fargate pool hosts, agent/ephemeral-storage.ts):
   * their containers' writable layers and task volumes are made on them. None: tasks write to the host's disk.
   */
  readonly taskStorage?: TaskStorage;
  /**
   * Credentials for a registry a task's image is pulled from: for berth's own registry, a token obtained with
   * the task execution role's credentials when the task has them (agent/registry-auth.ts). Throws a
   * {@link StopReasonError} when the role is refused a token.
   */
  registryAuth?(registryHost: string, taskArn: string): Promise<RegistryCredentials | undefined>;
  /**
   * A container's `repositoryCredentials.credentialsParameter` (a Secrets Manager secret holding
   * `{"username","password"}`), fetched with the task execution role's credentials; throws a
   * {@link StopReasonError} with ECS's stopped reason when it cannot be had.
   */
  repositoryCredentials?(taskArn: string, credentialsParameter: string): Promise<RegistryCredentials>;
  /** Ships container output to the control plane's log service (awslogs semantics). */
  readonly logs?: LogSink;
  readonly log: Logger;
  /**
   * A container's `secrets`, fetched with the task execution role's credentials (agent/secrets.ts); throws a
   * {@link StopReasonError} with ECS's stopped reason when they cannot be had.
   */
  resolveSecrets?(taskArn: string, secrets: readonly { name?: string; valueFrom?: string }[]): Promise<Record<string, string>>;
  /**
   * What must be ready before a container of a service's task starts, when the host has it: the Service
   * Connect proxy's aliases (agent/service-connect/proxy.ts), as ECS starts a task's containers only once its
   * Service Connect container is healthy. Throws a {@link StopReasonError} when it cannot be.
   */
  beforeServiceTaskStart?(serviceName: string, runtimeId: string): Promise<void>;
  /**
   * A running task of this service that the control plane stops keeps serving until `drained` settles (at most
   * `boundMs`), then its containers are signalled: Service Connect backends drain while the hosts' proxies take them
   * out (agent/service-connect/drain.ts). Undefined: no drain.
   */
  serviceConnectDrain?(serviceName: string, taskArn: string): { readonly boundMs: number; readonly drained: Promise<unknown> } | undefined;
  /** Whether the control plane sent credentials of the task's role (held in memory, agent/task-credentials.ts). */
  hasTaskRoleCredentials?(taskArn: string): boolean;
  /** Where a task start's time goes (debug level); none in most unit tests. */
  readonly spans?: StartSpans;
  now(): number;
  /** Deadlines and health-check intervals; Node's timers unless a test drives time by hand. */
  readonly timers?: Timers;
}

export interface EngineSettings {
  readonly cluster: string;
  readonly defaultStopTimeoutMs: number;
  /** How long a container waits for its dependencies unless its startTimeout says (ECS_CONTAINER_START_TIMEOUT). */
  readonly defaultStartTimeoutMs: number;
  readonly taskCleanupWaitMs: number;
  readonly imagePullBehavior: ImagePullBehavior;
  /** The host's address for networkBindings (bindIP), normally 0.0.0.0. */
  readonly bindIp: string;
  /** Base URL of the task metadata endpoint as containers reach it (e.g. http://169.254.170.2); none when off. */
  readonly metadataEndpoint?: string;
  /** Task roles (ECS_ENABLE_TASK_IAM_ROLE and its _NETWORK_HOST): which tasks' containers get their credentials' URI. */
  readonly taskIamRole?: boolean;
  readonly taskIamRoleNetworkHost?: boolean;
}

export interface ContainerFiles {
  /** Where the container's log goes (the path prepare() returns as logPath), known before it is prepared. */
  logPath(runtimeId: string): string;
  /** Prepare the container's own directory and return paths for its log and generated /etc files. */
  prepare(runtimeId: string, etc: EtcSettings): Promise<{
    logPath: string;
    hosts: string;
    resolvConf: string;
    hostname: string;
  }>;
  /** Rewrite the container's /etc/hosts in place (it is bind-mounted), e.g. once its address is known. */
  writeHosts(runtimeId: string, entries: readonly HostsEntry[]): Promise<void>;
  /**
   * The image's /etc/passwd and /etc/group as a fresh root filesystem of it has them, for resolving the
   * container's user: read from `rootfs` once it is mounted, unless already known for the image.
   */
  userDatabase(imageId: string, rootfs: Promise<string>): Promise<UserDatabase>;
  /** The image's user database if already read (userDatabase), so that nothing need wait for a mounted root. */
  knownUserDatabase(imageId: string): UserDatabase | undefined;
  remove(runtimeId: string): Promise<void>;
}

/** Where container output goes: the agent's log shipper. */
export interface LogSink {
  /** Start shipping a container's log file (also after an agent restart, from where it left off). */
  follow(source: LogSource): void;
  /** Ship what is left of the container's log (it has stopped), then stop following it. */
  finish(runtimeId: string): Promise<void>;
}

export interface LogSource {
  readonly runtimeId: string;
  /** The CRI-format log file the runtime writes. */
  readonly logPath: string;
  readonly taskArn: string;
  readonly family: string;
  readonly containerName: string;
  readonly cluster: string;
  /** The container definition's logConfiguration (awslogs options pick the group and stream prefix). */
  readonly logConfiguration?: { readonly logDriver?: string; readonly options?: Readonly<Record<string, string>> };
}

/** What a container's /etc files say besides defaults (hostname, extraHosts, links, DNS settings). */
export interface EtcSettings {
  readonly hostname: string;
  readonly hostNetwork: boolean;
  readonly hosts?: readonly HostsEntry[];
  readonly dnsServers?: readonly string[];
  readonly dnsSearchDomains?: readonly string[];
}

export interface HostsEntry {
  readonly ip: string;
  readonly names: readonly string[];
}

/** Run `work` as start span `name` of `task` when the engine records spans. */
export function timed<T>(deps: Pick<EngineDeps, 'spans'>, task: string, name: string, work: () => Promise<T>): Promise<T> {
  return deps.spans ? deps.spans.time(task, name, work) : work();
}

/** A failure whose message is the task's stopped reason as ECS words it (not prefixed with the step's name). */
export class StopReasonError extends Error {
  override readonly name: string = 'StopReasonError';
}
