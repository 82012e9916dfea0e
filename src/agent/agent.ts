import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from 'pino';
import type { ImageService } from '../image/image-service.js';
import type { NetworkService, PortAllocator } from '../network/network.js';
import type { Runtime } from '../runtime/runtime.js';
import { agentCredentialProvider } from './agent-credentials.js';
import { AgentStateStore } from './agent-state.js';
import type { AgentConfig, MetadataAddress } from './config.js';
import { controlPlaneClients, executionRoleClients } from './control-plane-clients.js';
import { identityOf } from './clients-by-credentials.js';
import { ControlPlaneEndpoints } from './endpoints.js';
import type { TaskStorage } from './ephemeral-storage.js';
import { DirectoryVolumeStore } from './volume-store.js';
import { EfsMounts } from './efs-mounts.js';
import { MountCertificate, MOUNT_CERTIFICATE_CHECK_MS } from './mount-certificate.js';
import { background } from '../process/background.js';
import { ContainerFileStore } from './container-files.js';
import { ImageCleanup } from './image-cleanup.js';
import { LogShipper } from './log-shipper.js';
import { startMetadataEndpoint, type RunningMetadataEndpoint } from './metadata/endpoint.js';
import { AGENT_VERSION, registerInstance } from './registration.js';
import { BerthRegistryAuth } from './registry-auth.js';
import { Reporter } from './reporter.js';
import { SessionClient } from './session-client.js';
import { ExecSessions } from './exec/exec-sessions.js';
import { containerOrHost, DnsRelay } from './dns-relay.js';
import { TaskEngine } from './task-engine/engine.js';
import { taskIdOf } from './task-engine/task-state.js';
import { TaskCredentials } from './task-credentials.js';
import type { SecretsApi } from './secrets.js';
import { StartSpans } from '../process/spans.js';
import type { MetricsListener } from '../process/metrics-listener.js';
import type { ServiceConnectProxy } from './service-connect/proxy.js';
import { MetricsPublisher } from './metrics-publisher.js';
import { systemTimers } from './task-engine/timers.js';
import { StopReasonError } from './task-engine/deps.js';

/**
 * How long a container of a service's task waits for the Service Connect proxy's first pass after it (normally
 * one round of ECS API calls); then the task stops, as an ECS task whose Service Connect container never
 * becomes healthy does.
 */
const SERVICE_CONNECT_READY_TIMEOUT_MS = 60_000;
/**
 * The longest a stopped Service Connect task drains before it is signalled (service-connect/drain.ts waits for the
 * proxies' passes and its sessions; normally ~2 refreshes): ECS's default per-request timeout, 15 s, after the two
 * passes' ~2 s — a request sent just before the stop may take that long through a proxy with the default timeout.
 */
const SERVICE_CONNECT_DRAIN_BOUND_MS = 17_000;

/** The host-side parts the agent drives; `berth agent` builds the real ones (runc, CNI, the image store). */
export interface AgentParts {
  readonly runtime: Runtime;
  readonly images: ImageService;
  readonly network: NetworkService;
  readonly ports: PortAllocator;
  /** Where to serve the task metadata endpoint, made an address of the host already; none: not served. */
  readonly metadataAddress?: MetadataAddress;
  /** Size-limited filesystems for tasks' ephemeral storage (a Fargate pool host's); none: tasks write to the host's disk. */
  readonly taskStorage?: TaskStorage;
}

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly parts: AgentParts;
  readonly log: Logger;
  /** Defaults to the AWS SDK's provider chain (environment, shared credentials file, …). */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Session timing (tests shorten these). */
  readonly session?: { silenceMs?: number; pingMs?: number; backoff?: { minMs: number; maxMs: number } };
  /** Names this agent when choosing its starting replica (default: the host name and data directory). */
  readonly endpointSeed?: string;
}

export interface RunningAgent {
  readonly containerInstanceArn: string;
  readonly engine: TaskEngine;
  readonly session: SessionClient;
  readonly reporter: Reporter;
  readonly logs: LogShipper;
  /** The control-plane replicas and the one in use. */
  readonly endpoints: ControlPlaneEndpoints;
  /** The task metadata endpoint's base URL as containers are given it, when it is served. */
  readonly metadataUrl?: string;
  /** The port of the operators' metrics listener, when BERTH_METRICS_LISTEN is set. */
  readonly metricsPort?: number;
  /** Stop the agent; containers keep running and are re-adopted by the next agent. */
  stop(): Promise<void>;
}

/**
 * Start the agent: register (as the same instance after a restart), re-adopt the tasks it had, then open
 * the session on which the control plane sends tasks, and report task state as it changes.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config, parts, log } = options;
  const credentialProvider: AwsCredentialIdentityProvider =
    typeof options.credentials === 'function'
      ? options.credentials
      : options.credentials
        ? async () => options.credentials as AwsCredentialIdentity
        : agentCredentialProvider();
  // One choice of replica for every call to the control plane: the APIs and the session move together.
  const endpoints = new ControlPlaneEndpoints(config.endpoints, {
    // Stable across restarts, and different for each simulated host sharing a machine.
    seed: options.endpointSeed ?? `${hostname()}:${config.dataDir}`,
    onMove: (from, to) => {
      log.warn({ from, to }, 'control plane replica unavailable; moving to another');
      // An API call found the replica gone (or without its store) before the session did — a host that
      // vanished leaves the session's socket open until it falls silent: follow the API calls now.
      session?.leave(from);
    },
  });
  let session: SessionClient | undefined;
  const clients = controlPlaneClients(endpoints, config.region, credentialProvider);
  const { ecs, ecr } = clients;
  // Tasks' role credentials: in memory only, served to their own containers by the metadata endpoint.
  const taskCredentials = new TaskCredentials();
  const executionIdentity = (arn: string) => {
    const c = taskCredentials.get(arn, 'TaskExecution');
    return c ? identityOf(c) : undefined;
  };
  // What the agent does for a task with its execution role (pulls from berth's registry, awslogs), through
  // clients made with that role's credentials: one per set of credentials, bounded.
  const roleClients = executionRoleClients(endpoints, config.region);
  const registryAuth = new BerthRegistryAuth(BerthRegistryAuth.ecrTokenSource(ecr, roleClients.ecr), log.child({ component: 'registry-auth' }));
  const state = new AgentStateStore(config.dataDir);
  // Container output goes to the control plane's CloudWatch Logs API, with the task execution role's
  // credentials when the task has one, else the agent's.
  const logs = new LogShipper({
    client: clients.logs,
    clientFor: async (arn) => {
      const identity = executionIdentity(arn);
      return identity ? roleClients.logs(identity) : undefined;
    },
    stateDir: join(config.dataDir, 'log-shipper'),
    log: log.child({ component: 'log-shipper' }),
  });
  let metadata: RunningMetadataEndpoint | undefined;
  let dnsRelay: DnsRelay | undefined;
  // What only some agents or some tasks use is loaded when first used (docs/agent.md, "Footprint"): the
  // operators' metrics, the Service Connect proxy, Secrets Manager and SSM.
  const operatorMetrics = config.metricsListen ? (await import('./operator-metrics.js')).agentMetrics() : undefined;
  let metricsListener: MetricsListener | undefined;
  // Secrets Manager and SSM with a task's execution role (none: the calls fail with ECS's reason).
  const withSecretsApi = async <T>(arn: string, use: (api: SecretsApi | undefined) => Promise<T>): Promise<T> => {
    const identity = executionIdentity(arn);
    if (!identity) return use(undefined);
    const api = await (await import('./secrets.js')).sdkSecretsApi(endpoints, config.region, identity);
    try {
      return await use(api);
    } finally {
      api.destroy();
    }
  };
  try {
    const { containerInstanceArn, clusterArn } = await registerInstance(ecs, config, state, log);
    // Where each task start's milliseconds go, logged at debug level (process/spans.ts).
    const spans = new StartSpans(log.child({ component: 'spans' }), undefined, undefined, operatorMetrics?.observeSpans);
    const reporter = new Reporter(ecs, config.cluster, log.child({ component: 'reporter' }), spans);
    let engine: TaskEngine | undefined;
    let saves = 0;
    // Listening first: its URL (the port, when it was chosen at random) goes into every container's environment.
    if (parts.metadataAddress) {
      metadata = await startMetadataEndpoint({
        address: parts.metadataAddress,
        source: { tasks: () => engine?.tasks() ?? [] },
        runtime: parts.runtime,
        ecs,
        endpoints,
        region: config.region,
        clusterName: config.cluster,
        availabilityZone: config.availabilityZone,
        containerInstanceArn,
        credentials: taskCredentials,
        hostModeCredentials: config.taskIamRole && config.taskIamRoleNetworkHost,
        log: log.child({ component: 'metadata' }),
      });
    }
    const imageCleanup = new ImageCleanup(
      parts.images,
      () => (engine?.tasks() ?? []).flatMap((t) => t.containers.flatMap((c) => (c.imageId ? [c.imageId] : []))),
      log.child({ component: 'image-cleanup' }),
      { intervalMs: config.imageCleanupIntervalMs, minimumAgeMs: config.imageMinimumCleanupAgeMs },
    );
    // Containers' resolver: BERTH_DNS_SERVER when set, else the node-local relay once the control plane advertises
    // its DNS server (dns-relay.ts), else the host's resolvers.
    dnsRelay = config.dnsRelay !== undefined ? new DnsRelay({ host: config.dnsRelay, allowed: containerOrHost(config.bridgeSubnet), log: log.child({ component: 'dns-relay' }) }) : undefined;
    const relay = dnsRelay;
    // Service Connect: the per-host proxy, following the ECS API (service-connect/proxy.ts); made below, once the
    // engine (whose tasks it reads) is.
    let serviceConnect: ServiceConnectProxy | undefined;
    const containerFiles = new ContainerFileStore(join(config.dataDir, 'containers'), undefined, undefined, () => config.dnsServer ?? relay?.nameserver());
    // Tasks' EFS volumes: GlusterFS FUSE mounts made as the control plane says (efs-mounts.ts).
    const efsTls = join(config.dataDir, 'efs-tls');
    const mountCertificate = new MountCertificate({
      dir: efsTls,
      issue: async (csr) => (await clients.storage()).send('IssueAgentCertificate', { ContainerInstanceArn: containerInstanceArn, Csr: csr }),
      now: Date.now,
    });
    const efsMounts = new EfsMounts(join(config.dataDir, 'efs'), async (request) => (await clients.storage()).send('ResolveMount', request), efsTls, mountCertificate);
    // Between mounts: a mount that lives past its certificate's 30 days reconnects with a renewed one.
    const certificateTimer = setInterval(() => void background(log, 'renewing the EFS mount certificate', () => mountCertificate.renewIfDue()), MOUNT_CERTIFICATE_CHECK_MS);
    certificateTimer.unref();
    engine = new TaskEngine({
      ...parts,
      images: imageCleanup.tracked(),
      containerFiles,
      settings: {
        cluster: config.cluster,
        defaultStopTimeoutMs: config.containerStopTimeoutMs,
        defaultStartTimeoutMs: config.containerStartTimeoutMs,
        taskCleanupWaitMs: config.taskCleanupWaitMs,
        imagePullBehavior: config.imagePullBehavior,
        bindIp: '0.0.0.0',
        ...(metadata ? { metadataEndpoint: metadata.url } : {}),
        taskIamRole: config.taskIamRole,
        taskIamRoleNetworkHost: config.taskIamRoleNetworkHost,
      },
      ...(config.serviceConnectAddress
        ? {
            beforeServiceTaskStart: (service: string, runtimeId: string) =>
              serviceConnect!.readyToStart(service, runtimeId, SERVICE_CONNECT_READY_TIMEOUT_MS).catch((err: Error) => {
                throw new StopReasonError(`ResourceInitializationError: the Service Connect proxy is not ready: ${err.message}`);
              }),
            serviceConnectDrain: (service: string, taskArn: string) =>
              serviceConnect?.usesServiceConnect(service) ? { boundMs: SERVICE_CONNECT_DRAIN_BOUND_MS, drained: serviceConnect.drain(taskArn, SERVICE_CONNECT_DRAIN_BOUND_MS) } : undefined,
          }
        : {}),
      hasTaskRoleCredentials: (arn) => taskCredentials.get(arn, 'TaskApplication') !== undefined,
      // Fetched with the task execution role's credentials, as the ECS agent does; never saved.
      resolveSecrets: (arn, secrets) => withSecretsApi(arn, async (api) => (await import('./secrets.js')).resolveSecrets(secrets, api)),
      repositoryCredentials: (arn, parameter) => withSecretsApi(arn, async (api) => (await import('./repository-credentials.js')).resolveRepositoryCredentials(parameter, api)),
      registryAuth: (host, arn) => registryAuth.credentialsFor(host, executionIdentity(arn)),
      persist: (s) => {
        if (config.crashAtSave !== undefined && ++saves === config.crashAtSave) process.kill(process.pid, 'SIGKILL');
        return state.saveTask(s);
      },
      forget: (arn) => {
        taskCredentials.forget(arn);
        return state.forgetTask(arn);
      },
      report: (s) => reporter.report(s),
      reportHealth: (change) => session?.sendFrame({ type: 'TaskHealthChange', message: change }),
      reportAttachment: (change) => session?.sendFrame({ type: 'TaskAttachmentChange', message: change }),
      volumes: new DirectoryVolumeStore(join(config.dataDir, 'volumes'), efsMounts),
      logs,
      log: log.child({ component: 'task-engine' }),
      spans,
      now: Date.now,
    });
    await logs.resume();
    const recovered = await state.tasks();
    // EFS mounts of tasks this agent no longer has (it was killed between a task's end and its cleanup's save).
    const swept = await efsMounts.sweep(new Set(recovered.map((t) => taskIdOf(t.arn))));
    if (swept.length > 0) log.info({ tasks: swept }, 'unmounted EFS volumes of tasks no longer here');
    await engine.recover(recovered);
    if (operatorMetrics && config.metricsListen) {
      const running = engine;
      operatorMetrics.watch(() => running.tasks());
      const metricsLog = log.child({ component: 'metrics' });
      const { serveMetrics } = await import('../process/metrics-listener.js');
      metricsListener = await serveMetrics(operatorMetrics.registry, config.metricsListen.host, config.metricsListen.port, (err) => metricsLog.error({ err }, 'collecting metrics failed'));
    }
    const scAddress = config.serviceConnectAddress;
    if (scAddress) {
      const [{ ensureLocalAddress }, { ServiceConnectProxy }] = await Promise.all([import('./metadata/host-address.js'), import('./service-connect/proxy.js')]);
      await ensureLocalAddress(scAddress);
      serviceConnect = new ServiceConnectProxy({
        ecs,
        cluster: config.cluster,
        address: scAddress,
        dir: join(config.dataDir, 'sc'),
        log: log.child({ component: 'service-connect' }),
        localTasks: () =>
          engine!
            .tasks()
            .filter((t) => t.known !== 'STOPPED' && t.spec.networkMode !== 'host')
            .map((t) => ({
              taskArn: t.arn,
              ...(t.spec.serviceName ? { serviceName: t.spec.serviceName } : {}),
              ...(t.taskNetwork?.netnsPath && t.taskNetwork.ipv4Address ? { netnsPath: t.taskNetwork.netnsPath, address: t.taskNetwork.ipv4Address } : {}),
              portMappings: t.spec.containers.flatMap((c) => c.portMappings ?? []),
              runtimeIds: t.containers.flatMap((c) => (c.runtimeId ? [c.runtimeId] : [])),
            })),
        writeAliases: (id, names) => containerFiles.writeServiceConnectHosts(id, scAddress, names),
      });
      serviceConnect.start();
    }
    if (config.imageCleanup) imageCleanup.start();

    // ECS Exec: each session a socket to the replica the agent's session is on (exec/exec-sessions.ts).
    const execDir = join(config.dataDir, 'exec');
    await mkdir(execDir, { recursive: true, mode: 0o700 });
    const execSessions = new ExecSessions({
      runtime: parts.runtime,
      runningContainer: (taskArn, name) => {
        const c = engine!.get(taskArn)?.containers.find((x) => x.name === name);
        return c?.known === 'RUNNING' ? c.runtimeId : undefined;
      },
      endpoint: () => session?.endpoint,
      dir: execDir,
      log: log.child({ component: 'ecs-exec' }),
    });
    let fatal: ((message: string) => void) | undefined;
    const sessionClient = new SessionClient({
      endpoints,
      clusterArn,
      containerInstanceArn,
      region: config.region,
      credentials: credentialProvider,
      agentVersion: AGENT_VERSION,
      log: log.child({ component: 'session' }),
      onPayload: (received) => {
        // Credentials stay in memory; the engine saves the tasks without them.
        const tasks = received.map((t) => taskCredentials.takeFrom(t));
        for (const t of tasks) if (t.desiredStatus === 'RUNNING' && !engine.get(t.arn)) spans.begin(t.arn, 'agent.received');
        // Returned, so the payload is acknowledged only once its tasks are saved.
        return engine.handlePayload(tasks);
      },
      onCredentials: (m) => taskCredentials.set(m.taskArn, m.roleType, m.roleCredentials),
      onExecStart: (m) => execSessions.start(m),
      onDnsServer: (address, endpointHost) => relay?.advertise(address, endpointHost),
      onFatal: (message) => fatal?.(message),
      onOpen: () => {
        // State changes a dead replica did not take are waiting out their backoff: send them now.
        reporter.retryNow();
        // Health and task addresses are sent as they change; after a reconnect the control plane gets the
        // current picture again.
        engine!.reportAttachments();
        for (const t of engine!.tasks()) {
          if (t.known === 'STOPPED' || !t.containers.some((c) => c.healthStatus)) continue;
          session!.sendFrame({
            type: 'TaskHealthChange',
            message: { taskArn: t.arn, containers: t.containers.map((c) => ({ containerName: c.name, healthStatus: c.healthStatus ?? 'UNKNOWN' })) },
          });
        }
      },
      ...options.session,
    });
    session = sessionClient;
    sessionClient.start();
    // The running tasks' cgroup figures, once a minute, for AWS/ECS utilization (metrics-publisher.ts).
    const runtimeStats = parts.runtime.stats?.bind(parts.runtime);
    const metricsPublisher = runtimeStats
      ? new MetricsPublisher({
          tasks: () =>
            engine!
              .tasks()
              .filter((t) => t.known === 'RUNNING')
              .map((t) => ({ arn: t.arn, runtimeIds: t.containers.flatMap((c) => (c.runtimeId && c.known === 'RUNNING' ? [c.runtimeId] : [])) })),
          stats: runtimeStats,
          send: (message) => sessionClient.sendFrame({ type: 'PublishMetricsRequest', message }),
          intervalMs: config.metricsPublishIntervalMs,
          timers: systemTimers,
          log: log.child({ component: 'metrics-publisher' }),
        })
      : undefined;
    metricsPublisher?.start();
    const agent: RunningAgent = {
      containerInstanceArn,
      engine,
      session: sessionClient,
      reporter,
      logs,
      endpoints,
      ...(metadata ? { metadataUrl: metadata.url } : {}),
      ...(metricsListener ? { metricsPort: metricsListener.port } : {}),
      async stop() {
        await metricsListener?.close();
        await metadata?.close();
        await dnsRelay?.stop();
        await serviceConnect?.stop();
        imageCleanup.stop();
        clearInterval(certificateTimer);
        metricsPublisher?.stop();
        execSessions.stop();
        sessionClient.stop();
        engine.shutdown();
        await reporter.idle(2_000);
        reporter.stop();
        await logs.stop();
        clients.destroy();
        roleClients.destroy();
        await state.close();
      },
    };
    fatal = (message) => {
      log.error(`stopping: ${message}`);
      void agent.stop();
    };
    return agent;
  } catch (error) {
    await metricsListener?.close();
    await metadata?.close();
    await dnsRelay?.stop();
    await logs.stop();
    clients.destroy();
    roleClients.destroy();
    await state.close();
    throw error;
  }
}
