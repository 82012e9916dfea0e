import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { CredentialChain, loadRootKeyPair, rootPrincipal, StaticCredentials, type CredentialStore, type RootKeyPair } from '../api/auth/credentials.js';
import { Authorizer } from '../api/authz/authorizer.js';
import { IamPolicySource } from '../api/authz/iam-policy-source.js';
import type { PolicySource } from '../api/authz/policy-source.js';
import { SigV4Verifier } from '../api/auth/sigv4.js';
import { attestClientAddress, attestedClientAddress } from '../api/auth/forwarded-client.js';
import { SigV4Signer } from '../process/sigv4-signer.js';
import { AccessKeyCredentials } from '../api/iam/access-key-credentials.js';
import { iamService } from '../api/iam/index.js';
import { elbv2Service } from '../elb/elbv2-service.js';
import { lbNodeService } from '../elb/lb-node-service.js';
import { stsService, type StsEnv } from '../api/sts/index.js';
import { SessionTokens } from '../api/sts/session-tokens.js';
import { KeyRingSealer, loadSealer, type Sealer } from '../identity/sealer.js';
import { ecrService } from '../api/ecr/index.js';
import type { EcrEnv } from '../api/ecr/env.js';
import { ecsService } from '../api/ecs/index.js';
import type { EcsEnv } from '../api/ecs/env.js';
import { StartSpans } from '../process/spans.js';
import { buildHttpServer } from '../api/http-server.js';
import { registerConsoleFiles } from '../api/console-files.js';
import { AgentGateway } from '../api/acs/gateway.js';
import { clusterCapacityOf } from '../api/acs/published-metrics.js';
import { UtilizationAggregator } from '../metrics/ecs-utilization-aggregator.js';
import { publishFigures } from '../metrics/ecs-figures-exchange.js';
import type { TaskRoleIssuer } from '../api/acs/task-role-credentials.js';
import { taskRoleIssuer } from '../api/sts/assume-role.js';
import { SessionPresence } from '../api/acs/presence.js';
import { LEADER_KEY, startLeadership, type Leadership } from '../controllers/leadership.js';
import type { ServiceController } from '../controllers/service-controller.js';
import { logsService } from '../logs/index.js';
import { parameterStoreService } from '../parameters/ssm-service.js';
import { secretsManagerService } from '../secrets/secretsmanager-service.js';
import { cloudMapTagLookup } from '../cloudmap/catalog.js';
import { cloudMapService } from '../cloudmap/cloudmap-service.js';
import { efsService } from '../efs/efs-service.js';
import { storageNodeService } from '../efs/storage-node-service.js';
import { DirectoryFeed } from '../dns/directory-feed.js';
import { DnsServer } from '../dns/dns-server.js';
import { hostUpstreams, type Upstream } from '../dns/upstream.js';
import { secretTagLookup } from '../secrets/secret-vault.js';
import { ecsResourceTags } from '../api/ecs/tags.js';
import { resourceTagRouter } from '../api/authz/resource-tags.js';
import { LogStorage } from '../logs/storage/log-storage.js';
import { cloudwatchServices } from '../metrics/api/cloudwatch-service.js';
import { autoScalingService } from '../autoscaling/autoscaling-service.js';
import { eventsService } from '../events/events-service.js';
import { schedulerService } from '../events/scheduler/service.js';
import type { EventsEnv } from '../events/env.js';
import { callAsRole, runTaskAsRule } from './events-runner.js';
import { queueArn } from '../queues/names.js';
import { sendToQueue } from '../queues/internal-send.js';
import { QueueOwner } from '../queues/queue-owner.js';
import { background } from '../process/background.js';
import { QUEUE_OWNER_KEY, QueueForwarder, type QueueOwnerRecord } from '../queues/forward.js';
import { sqsServices } from '../queues/sqs-service.js';
import { hostGroupsService } from '../hostgroups/host-groups-service.js';
import { commandProvisioner } from '../hostgroups/provisioners/command.js';
import { netnsProvisioner } from '../hostgroups/provisioners/netns.js';
import { provisionerSet, type Provisioners } from '../hostgroups/provisioners/provisioner.js';
import { hostCredentials, type HostKeys } from './host-credentials.js';
import type { AutoScalingEnv } from '../autoscaling/env.js';
import { MetricStore } from '../metrics/metric-store.js';
import { buildRegistryServer } from '../registry/http/server.js';
import { registryRoutes } from '../registry/http/routes.js';
import { openRegistry, type Registry } from '../registry/registry.js';
import { ClusterCache } from '../state/cluster-cache.js';
import { EtcdStore } from '../store/etcd.js';
import { withDeadline } from '../store/lease-keeper.js';
import { MemoryStore } from '../store/memory.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { startLeaderDuties, type LeaderDuties } from './leader-duties.js';
import { serverMetrics } from './operator-metrics.js';
import { serveMetrics, type MetricsListener } from '../process/metrics-listener.js';
import { TimedStore } from '../store/timed-store.js';
import { ExecGateway } from '../api/exec/exec-gateway.js';
import { ExecRelayDialer, ExecRelayEndpoint } from '../api/exec/exec-relay.js';
import { logWriter } from '../logs/log-writer.js';

/** Everything `berth server` needs, compiled once from flags and environment (see cli/server-command.ts). */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Where the store and the generated credentials live; omitted with `store: 'memory'`. */
  readonly dataDir?: string;
  readonly store: 'sqlite' | 'memory' | 'etcd';
  /** With `store: 'etcd'`: the cluster to use (see EtcdSettings). */
  readonly etcd?: EtcdSettings;
  /** A store the caller opened and closes (tests running several replicas on one store); overrides `store`. */
  readonly storeInstance?: Store;
  /**
   * A directory every replica reads and writes (a network file system when replicas run on several machines):
   * registry blobs (`<sharedDir>/registry`), log chunk files and, with etcd, the root credentials. Required with etcd.
   */
  readonly sharedDir?: string;
  /** This replica's name in the leader key, presence keys and /healthz. Default `<hostname>:<port>`. */
  readonly replicaId?: string;
  /** TTL of the leader lease and of this replica's agent-presence lease (default 5 s). */
  readonly leaseTtlMs?: number;
  readonly region: string;
  readonly accountId: string;
  /** A fixed root key pair; otherwise BERTH_ACCESS_KEY_ID/BERTH_SECRET_ACCESS_KEY or `<dataDir>/credentials`. */
  readonly rootKeys?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly logger?: Logger;
  readonly checkResponses?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Where registry blobs live. Default `<dataDir>/registry`; without a data directory, a temporary directory removed at stop. */
  readonly registryDir?: string;
  /** Serve the registry (`/v2/`) on its own listener instead of the API's. */
  readonly registryListen?: { readonly host: string; readonly port: number };
  /** `host[:port]` in repositoryUris and the login endpoint, when clients reach the registry by another name. */
  readonly registryHost?: string;
  /** Scheme of the login endpoint (`https` when a TLS proxy fronts berth). Default `http`. */
  readonly registryScheme?: 'http' | 'https';
  readonly registryGcIntervalMs?: number;
  readonly registryGcGraceMs?: number;
  readonly registryLifecycleIntervalMs?: number;
  /**
   * Issues the credentials of tasks' roles (taskRoleArn, executionRoleArn) that the agent gateway sends to
   * agents. Tests give their own.
   */
  readonly taskRoles?: TaskRoleIssuer;
  /** Agent session timing (tests shorten these). */
  readonly heartbeatMs?: number;
  readonly agentSilenceMs?: number;
  /** How long STOPPED tasks stay describable (default 1 h). */
  readonly stoppedTaskRetentionMs?: number;
  /** How long a deleted (INACTIVE) cluster stays listed and describable (default 1 h). */
  readonly inactiveClusterRetentionMs?: number;
  /** The ECS API's clock, milliseconds since the epoch (default Date.now; tests move time with it). */
  readonly now?: () => number;
  /** How often log retention is applied and deleted log streams are purged (default 5 min). */
  readonly logSweepMs?: number;
  /** An instance whose agent has been disconnected this long is lost: its service tasks are replaced (default 5 min). */
  readonly instanceLostAfterMs?: number;
  /** How often the service controller looks at every service without an event (default 30 s). */
  readonly serviceResyncMs?: number;
  /** More credentials than the root key pair (tests sign as non-root principals with them). */
  readonly credentials?: CredentialStore;
  /** The identity policies of non-root principals (default: none, so only root is allowed anything). */
  readonly policySource?: PolicySource;
  /** How often the leader deletes secrets past their recovery window (default 1 min). */
  readonly secretPurgeMs?: number;
  /** The domain of load balancers' DNS names, `<name>-<id>.<region>.elb.<domain>` (default `berth.internal`). */
  readonly elbDnsDomain?: string;
  /** Serve Cloud Map's DNS namespaces (and forward other names) on this address, UDP and TCP (`--dns-listen`). */
  readonly dnsListen?: { readonly host: string; readonly port: number };
  /** Where the DNS server forwards names outside the namespaces (default: /etc/resolv.conf's nameservers). */
  readonly dnsUpstreams?: readonly Upstream[];
  /** How often the leader removes targets whose deregistration delay is over (default 1 s). */
  readonly targetDrainMs?: number;
  /** Between the leader's EventBridge passes (routing, schedules, deliveries; default 500 ms). */
  readonly eventsDispatchMs?: number;
  /** The period of target tracking's alarms (default 60 s, AWS's; 10 for tests). */
  readonly targetTrackingPeriodS?: number;
  /** Between alarm evaluation passes (default 10 s). */
  readonly alarmEvaluationMs?: number;
  /**
   * Test-only (BERTH_TIME_SCALE): a minute of the metric-to-scaling chain lasts 60 / timeScale s — AWS/ECS
   * utilization's period (high-resolution below 60 s), target tracking's alarm period, the alarm evaluation interval.
   */
  readonly timeScale?: number;
  /** Serve operators' metrics (Prometheus text format) at `GET /metrics` on this address (`--metrics-listen`); off without it. */
  readonly metricsListen?: { readonly host: string; readonly port: number };
  /**
   * Host groups' provisioners (docs/capacity.md): the built-in `netns` one (simulated hosts on a bridge with this
   * /24, `A.B.C.0/24`) and commands by name (`command:NAME` in a launch configuration's ImageId).
   */
  readonly hostProvisioners?: { readonly netns?: { readonly subnet: string; readonly bridge?: string }; readonly commands?: Readonly<Record<string, string>> };
  /** A provisioned host whose agent has not registered this long after its launch is replaced (default 5 min). */
  readonly hostRegistrationTimeoutMs?: number;
  /** Between the host group controller's passes (default 2 s). */
  readonly hostGroupPassMs?: number;
  /**
   * Capacity providers' managed scaling (docs/capacity.md): between its passes (default 15 s), how long
   * CapacityProviderReservation must stay under target before a scale-in (default 15 min, ECS's), and how long managed
   * draining holds an instance for its tasks to leave (default 1 h).
   */
  readonly managedScaling?: { readonly passMs?: number; readonly scaleInAfterMs?: number; readonly drainTimeoutMs?: number };
  /** Between the AWS/SQS metric publications (default 60 s, or 60 / timeScale s; tests shorten it). */
  readonly queueMetricsPeriodMs?: number;
}

/** How to reach etcd (`--store etcd`). */
export interface EtcdSettings {
  /** Client URLs, `http://host:port` or `https://host:port`. */
  readonly endpoints: readonly string[];
  /** TLS client files (PEM): the CA to trust, and a client certificate and key. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /**
   * Every berth key lives under this prefix (default `berth/`). One berth cluster per etcd all the same: the
   * caches follow the whole etcd's revisions, and other writers' revisions would hold their catch-ups up.
   */
  readonly prefix?: string;
  /**
   * Operations one transaction may hold: etcd's `--max-txn-ops` (default 128). Controllers size their passes to
   * it (a pass launching many tasks writes two keys a task), so a larger value lets a pass do more at once.
   */
  readonly maxTxnOps?: number;
}

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly rootKeys: RootKeyPair;
  readonly store: Store;
  /** Log groups, streams and events (the CloudWatch Logs API's storage: the Store and a directory of chunk files). */
  readonly logs: LogStorage;
  readonly app: FastifyInstance;
  /** The authorization step; the IAM state calls its `invalidate` when policies change. */
  readonly authorizer: Authorizer;
  readonly registry: Registry;
  /** `host:port` of the registry as clients name it (the host part of repositoryUris). */
  readonly registryHost: string;
  /** This replica's name (leader key, presence keys, /healthz). */
  readonly replicaId: string;
  /** Whether this replica leads (runs the controllers) right now. */
  readonly leadership: Leadership;
  /** The service controller of the current term (idle and no passes while this replica does not lead). */
  readonly serviceController: ServiceController;
  /** `host:port` of the DNS server (UDP and TCP), when `dnsListen` was given. */
  readonly dnsAddress?: string;
  /** `host:port` of the operators' metrics listener, when `metricsListen` was given. */
  readonly metricsAddress?: string;
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const log = config.logger ?? pino({ level: 'info' });
  if (config.store === 'etcd' && !config.storeInstance && !config.sharedDir) {
    throw new Error('--store etcd needs --shared-dir: a directory every replica shares (registry blobs, logs, root credentials)');
  }
  // Operators' metrics: every txn timed in one place, the store's wrapper (only when someone scrapes them).
  const operatorMetrics = config.metricsListen ? serverMetrics() : undefined;
  const opened = await openStore(config);
  const store: Store = operatorMetrics ? new TimedStore(opened, operatorMetrics.observeTxn) : opened;
  if (config.sharedDir) mkdirSync(config.sharedDir, { recursive: true, mode: 0o700 });
  const registryDir =
    config.registryDir ??
    (config.sharedDir ? join(config.sharedDir, 'registry') : config.dataDir ? join(config.dataDir, 'registry') : mkdtempSync(join(tmpdir(), 'berth-registry-')));
  const ownsRegistryDir = config.registryDir === undefined && config.sharedDir === undefined && config.dataDir === undefined;
  const replicaId = config.replicaId ?? defaultReplicaId(config);
  const leaseTtlMs = config.leaseTtlMs ?? 5_000;
  // Log chunk files in the shared directory (every replica reads what any wrote), else beside the Store's data;
  // with the memory store, whose index dies with the process, a temporary directory removed at stop.
  const ownsLogsDir = config.sharedDir === undefined && config.store === 'memory';
  const logsDir = config.sharedDir ?? (ownsLogsDir ? mkdtempSync(join(tmpdir(), 'berth-logs-')) : requireDataDir(config));
  let clusterCache: ClusterCache | undefined;
  let accessKeys: AccessKeyCredentials | undefined;
  let iamPolicies: IamPolicySource | undefined;
  let metrics: MetricStore | undefined;
  const cleanup = async () => {
    metrics?.close();
    clusterCache?.stop();
    accessKeys?.stop();
    iamPolicies?.stop();
    if (!config.storeInstance) await store.close();
    if (ownsRegistryDir) rmSync(registryDir, { recursive: true, force: true });
    if (ownsLogsDir) rmSync(logsDir, { recursive: true, force: true });
  };
  /** How to stop what has started so far, should the start fail half-way (run in reverse). */
  const undo: (() => unknown)[] = [];
  try {
    const logs = new LogStorage(store, logsDir);
    // CloudWatch metrics: one SQLite file beside the log chunks (the shared directory with replicas), see metrics/metric-store.ts.
    mkdirSync(join(logsDir, 'metrics'), { recursive: true, mode: 0o700 });
    metrics = new MetricStore(join(logsDir, 'metrics', 'metrics.db'));
    const metricStore = metrics;
    const rootKeys: RootKeyPair = config.rootKeys
      ? { ...config.rootKeys, source: 'environment' }
      : loadRootKeyPair(credentialsDir(config), config.env ?? process.env);
    const principal = rootPrincipal(config.accountId);
    const scope = { region: config.region, accountId: config.accountId };
    const registry = await openRegistry({
      store,
      dir: registryDir,
      log: log.child({ component: 'registry' }),
      ...(config.registryGcIntervalMs !== undefined ? { gcIntervalMs: config.registryGcIntervalMs } : {}),
      ...(config.registryGcGraceMs !== undefined ? { gcGraceMs: config.registryGcGraceMs } : {}),
      ...(config.registryLifecycleIntervalMs !== undefined ? { lifecycleIntervalMs: config.registryLifecycleIntervalMs } : {}),
    });
    // Known once the registry's listener is bound (its port may be 0 until then).
    let boundRegistryHost = '';
    const registryHost = () => config.registryHost ?? boundRegistryHost;
    const informerLog = log.child({ component: 'informer' });
    const cache = (clusterCache = new ClusterCache({
      store,
      onError: (err, failure) => informerLog.warn({ err, ...failure }, `informer of ${failure.prefix}: ${failure.kind} failed`),
    }).start());
    await cache.ready();
    const spans = new StartSpans(log.child({ component: 'spans' }));
    const ecsEnv: EcsEnv = {
      store,
      cache,
      scope,
      now: config.now ?? Date.now,
      spans,
      logGroupExists: async (name) => (await logs.groups.get(name)) !== undefined,
      ...tasksPerCommit(config),
      ...(config.inactiveClusterRetentionMs !== undefined ? { inactiveClusterRetentionMs: config.inactiveClusterRetentionMs } : {}),
    };
    const ecrEnv: EcrEnv = { registry, scope, registryHost, registryScheme: config.registryScheme ?? 'http' };
    const sealer = sealerOf(config);
    const vaultEnv = { store, sealer, scope, now: config.now ?? Date.now };
    const cloudMapEnv = { store, scope, now: config.now ?? Date.now };
    const services = [
      ecsService(ecsEnv),
      ecrService(ecrEnv),
      logsService({ storage: logs, scope, now: Date.now }),
      secretsManagerService(vaultEnv),
      parameterStoreService(vaultEnv),
      cloudMapService(cloudMapEnv),
    ];
    const iamCredentials = (accessKeys = new AccessKeyCredentials({
      store,
      accountId: config.accountId,
      sealer,
      onError: (err, failure) => informerLog.warn({ err, ...failure }, `informer of ${failure.prefix}: ${failure.kind} failed`),
    }).start());
    await iamCredentials.ready();
    const sessions = new SessionTokens(sealer, config.now ?? Date.now);
    const iamEnv = { store, accountId: config.accountId, sealer, now: config.now ?? Date.now, credentialsCaughtUp: () => iamCredentials.caughtUp() };
    // AssumeRole asks the caller's identity policies through the authorizer (created below, before any request).
    let identityDecision: StsEnv['identityDecision'];
    const stsEnv: StsEnv = { ...iamEnv, sessions, identityDecision: (...args) => identityDecision!(...args) };
    const elbEnv = {
      store,
      scope,
      now: config.now ?? Date.now,
      ...(config.elbDnsDomain !== undefined ? { dnsDomain: config.elbDnsDomain } : {}),
      // Instance targets are container instances' EC2-style ids (the informer's view: no read per target).
      knownInstance: async (id: string) => [...cache.instances.cache.values()].some((c) => c.value.ec2InstanceId === id),
      // AWS/ApplicationELB from berth lb's traffic reports (lb-node-service.ts).
      metrics: metricStore,
      // Target tracking at periods under a minute reads the per-second level (see ElbEnv.metricsHighResolution).
      metricsHighResolution: config.targetTrackingPeriodS !== undefined && config.targetTrackingPeriodS < 60,
    };
    const cloudwatch = cloudwatchServices({ store: metricStore, now: config.now ?? Date.now, records: store, scope });
    services.push(cloudwatch.json);
    const autoScalingEnv: AutoScalingEnv = {
      store,
      scope,
      now: config.now ?? Date.now,
      ...(config.targetTrackingPeriodS !== undefined ? { targetTrackingPeriodS: config.targetTrackingPeriodS } : {}),
      ...(config.timeScale !== undefined ? { targetTrackingPeriodS: 60 / config.timeScale } : {}),
    };
    services.push(autoScalingService(autoScalingEnv));
    const eventsEnv: EventsEnv = { store, scope, now: config.now ?? Date.now };
    const events = eventsService(eventsEnv);
    services.push(events);
    // SQS: the queues' log in the shared directory (beside the metrics), held by one process at a time: this one
    // for its life with a sqlite or memory store, the leader for its term with etcd (docs/queues.md).
    const queues = new QueueOwner({
      path: join(logsDir, 'queues', 'queues.log'),
      arnOf: (name) => queueArn(scope, name),
      now: config.now ?? Date.now,
      log: log.child({ component: 'queues' }),
      metrics: metricStore,
      ...(config.queueMetricsPeriodMs !== undefined
        ? { metricsPeriodMs: config.queueMetricsPeriodMs }
        : config.timeScale !== undefined
          ? { metricsPeriodMs: 60_000 / config.timeScale }
          : {}),
    });
    const queuesFollowLeader = config.store === 'etcd' || config.storeInstance !== undefined;
    if (!queuesFollowLeader) queues.open();
    undo.push(() => queues.close());
    const sqs = sqsServices({ scope, queues: () => queues.current() });
    // Replicas that do not hold the queues pass SQS requests on to the leader, which does.
    const attester = new SigV4Signer({ credentials: rootKeys, region: config.region, service: 'sqs' });
    const sqsForwarder = queuesFollowLeader
      ? new QueueForwarder({
          store,
          leaderKey: LEADER_KEY,
          held: () => queues.held(),
          replicaId,
          onError: (err, owner) => log.warn({ err, owner }, 'could not pass an SQS request on to the replica holding the queues'),
          // The client's address travels with authority: attested with the root key pair every replica verifies.
          attestation: {
            sign: (address, headers) => attestClientAddress(attester, address, headers),
            verify: (headers) => attestedClientAddress(verifier, config.accountId, headers),
          },
        })
      : undefined;
    if (sqsForwarder) undo.push(() => sqsForwarder.close());
    services.push(sqs.json);
    // EventBridge Scheduler speaks REST-JSON: its own routes on the listener, chosen by the request's signing name.
    // Amazon EFS (REST-JSON) beside Scheduler, and the storage hosts' reports (docs/storage.md).
    const efsEnv = { store, scope, now: config.now ?? Date.now };
    const restServices = [schedulerService(eventsEnv), efsService({ ...efsEnv, identityDecision: (...args) => identityDecision!(...args) })];
    // Storage hosts and agents get transit certificates from berth's CA (sealed key); mounts are judged by IAM.
    services.push(storageNodeService({ ...efsEnv, sealer, identityDecision: (...args) => identityDecision!(...args), log: log.child({ component: 'efs-mounts' }) }));
    // Host groups' hosts reach the server at the port it binds (known after listen, before any controller runs).
    let boundPortForHosts = config.port;
    const provisioners = hostProvisionersOf(
      config,
      hostCredentials({
        iam: iamService(iamEnv).operations,
        principal,
        file: join(hostsDirOf(config), '..', 'netns-host-credentials.json'),
        caughtUp: () => iamCredentials.caughtUp(),
        log: log.child({ component: 'host-credentials' }),
      }),
      () => boundPortForHosts,
    );
    const hostGroups = hostGroupsService({ store, scope, now: config.now ?? Date.now, provisionerProblem: (imageId) => provisioners.problem(imageId) });
    const queryServices = [iamService(iamEnv), stsService(stsEnv), elbv2Service(elbEnv), cloudwatch.query, hostGroups, sqs.query];
    // berth lb's reports (target health, where it serves): a JSON service beside ELBv2, signed for elasticloadbalancing.
    services.push(lbNodeService(elbEnv));
    const verifier = new SigV4Verifier({
      // The root key pair, IAM users' access keys, temporary credentials from STS (and a test's own, if given).
      credentials: new CredentialChain([
        new StaticCredentials({ ...rootKeys, principal }),
        iamCredentials,
        sessions,
        ...(config.credentials ? [config.credentials] : []),
      ]),
      region: config.region,
      // Each API mounted on the listener brings the signing names it accepts (ecs, ecr, logs, iam, sts).
      services: new Set([...services, ...restServices].flatMap((s) => s.signingNames).concat(queryServices.map((s) => s.signingName))),
      // IAM and STS are global: clients sign them for us-east-1 whatever region they are set to.
      globalRegions: new Map([
        ['iam', ['us-east-1']],
        ['sts', ['us-east-1']],
      ]),
    });
    // Non-root principals' policies: IAM's records (or a test's source); any IAM change drops the cached ones.
    let invalidate = (_arn?: string) => {};
    const policySource =
      config.policySource ??
      (iamPolicies = new IamPolicySource({
        store,
        accountId: config.accountId,
        onChange: (arn) => invalidate(arn),
        onError: (err, failure) => informerLog.warn({ err, ...failure }, `informer of ${failure.prefix}: ${failure.kind} failed`),
      }).start());
    // aws:ResourceTag/… from the records that keep tags (read only for principals whose policies use the key).
    const resourceTags = resourceTagRouter({ ecs: (arn) => ecsResourceTags(ecsEnv, arn), secretsmanager: secretTagLookup(vaultEnv), servicediscovery: cloudMapTagLookup(cloudMapEnv) });
    const authorizer = new Authorizer({ policies: policySource, scope, resourceTags });
    invalidate = (arn) => authorizer.invalidate(arn);
    identityDecision = (caller, action, resources, context) => authorizer.decision(caller, action, resources, context);
    let leadership: Leadership | undefined;
    const app = await buildHttpServer({
      logger: log,
      verifier,
      authorizer,
      services,
      queryServices,
      restServices,
      // Smithy RPC v2 CBOR, for the APIs whose clients speak it (CloudWatch), by the same implementation as their JSON.
      cborServices: [cloudwatch.json],
      ...(sqsForwarder ? { sqsRoute: sqsForwarder } : {}),
      health: async () => {
        const storeOk = await withDeadline(store.get(LEADER_KEY), 2_000).then(
          () => true,
          () => false,
        );
        return { ok: storeOk, role: leadership?.role() ?? 'follower', store: storeOk ? 'ok' : 'unavailable', replica: replicaId };
      },
      ...(config.checkResponses !== undefined ? { checkResponses: config.checkResponses } : {}),
      ...(operatorMetrics ? { observeRequest: operatorMetrics.observeRequest } : {}),
    });
    // The web console's page and scripts (GET / and /console/…); it calls the APIs above like any client.
    registerConsoleFiles(app, { region: config.region });
    const authorization = { authorizer, scope };
    const registryApp = config.registryListen ? await buildRegistryServer({ logger: log, registry, authorization }) : undefined;
    if (!registryApp) await registryRoutes(app, { registry, authorization });
    undo.push(() => app.close());
    if (registryApp) undo.push(() => registryApp.close());
    // This replica's address, once it listens: written beside its agents' presence, ECS Exec relays to it (docs/exec.md).
    let replicaUrl: string | undefined;
    const presence = new SessionPresence({ store, replicaId, url: () => replicaUrl, log: log.child({ component: 'agent-presence' }), ttlMs: leaseTtlMs });
    await presence.start();
    undo.push(() => presence.stop());
    // AWS/ECS CPU/Memory Utilization and Reservation: the figures this replica's agents publish go, a minute at a
    // time, to the leader, which writes the datapoints from every replica's (docs/metrics.md).
    const utilizationTiming = { periodS: 60 / (config.timeScale ?? 1), graceMs: 5_000 / (config.timeScale ?? 1) };
    const utilization = new UtilizationAggregator({
      publish: (startS, figures) => publishFigures(store, replicaId, startS, figures),
      now: config.now ?? Date.now,
      onError: (err) => log.warn({ err }, 'could not hand AWS/ECS utilization figures to the leader'),
      ...utilizationTiming,
    });
    utilization.start(5_000 / (config.timeScale ?? 1));
    undo.push(() => utilization.stop());
    const gateway = new AgentGateway({
      env: ecsEnv,
      utilization,
      verifier,
      // Opening a session is ecs:Poll on the container instance, as in ECS (api/acs/iam-actions.ts).
      authorizer,
      presence,
      log: log.child({ component: 'agent-gateway' }),
      ...(config.heartbeatMs !== undefined ? { heartbeatMs: config.heartbeatMs } : {}),
      ...(config.agentSilenceMs !== undefined ? { silenceMs: config.agentSilenceMs } : {}),
      // Tasks' roles are assumed as ECS assumes them (ecs-tasks.amazonaws.com), unless a test gives its own issuer.
      taskRoles: config.taskRoles ?? taskRoleIssuer(stsEnv),
      // Agents point their containers' resolver at it (docs/architecture.md "Service discovery").
      dnsServer: () => (dns ? advertisedDns(config.dnsListen!.host, dns.server.port) : undefined),
    });
    // Started below, once the API listens; the gateway reads it per session.
    let dns: { feed: DirectoryFeed; server: DnsServer } | undefined;
    await gateway.start(app.server);
    undo.push(() => gateway.stop());
    // ECS Exec's streams, beside the agents' sessions on the same listener (docs/exec.md).
    const execGateway = new ExecGateway({
      env: ecsEnv,
      agents: gateway,
      audit: logWriter({ storage: logs, scope, now: Date.now }),
      log: log.child({ component: 'ecs-exec' }),
      relay: new ExecRelayDialer({ store, replicaId, region: config.region, credentials: rootKeys, handshakeTimeoutMs: 20_000 }),
    });
    execGateway.start();
    const execRelay = new ExecRelayEndpoint({ gateway: execGateway, verifier, accountId: config.accountId, log: log.child({ component: 'ecs-exec-relay' }) });
    gateway.addUpgradeHandler((req, socket, head) => execGateway.handleUpgrade(req, socket, head) || execRelay.handleUpgrade(req, socket, head));
    undo.push(async () => execGateway.stop());
    undo.push(async () => execRelay.close());
    await app.listen({ host: config.host, port: config.port });
    const port = boundPort(app, config.port);
    replicaUrl = `http://${hostPort(config.host, port)}`;
    boundPortForHosts = port;
    // The DNS server answers from this replica's watch-fed copy of Cloud Map's records (docs/architecture.md "Service discovery").
    if (config.dnsListen) {
      const feed = new DirectoryFeed({ store, onError: (err, failure) => informerLog.warn({ err, ...failure }, `informer of ${failure.prefix}: ${failure.kind} failed`) }).start();
      undo.push(() => feed.stop());
      await feed.ready();
      const server = new DnsServer({
        host: config.dnsListen.host,
        port: config.dnsListen.port,
        directory: feed.directory,
        upstreams: config.dnsUpstreams ?? hostUpstreams(),
        log: log.child({ component: 'dns' }),
      });
      await server.start();
      undo.push(() => server.stop());
      dns = { feed, server };
    }
    if (registryApp && config.registryListen) {
      await registryApp.listen({ host: config.registryListen.host, port: config.registryListen.port });
      boundRegistryHost = hostPort(config.registryListen.host, boundPort(registryApp, config.registryListen.port));
    } else {
      boundRegistryHost = hostPort(config.host, port);
    }
    // Controllers and periodic jobs run on the leader only, for as long as it leads.
    let duties: LeaderDuties | undefined;
    let metricsListener: MetricsListener | undefined;
    if (operatorMetrics && config.metricsListen) {
      operatorMetrics.watch({ cache, queueDepth: () => duties?.serviceController.queueDepth() ?? 0 });
      const metricsLog = log.child({ component: 'metrics' });
      metricsListener = await serveMetrics(operatorMetrics.registry, config.metricsListen.host, config.metricsListen.port, (err) => metricsLog.error({ err }, 'collecting metrics failed'));
      const listening = metricsListener;
      undo.push(() => listening.close());
    }
    leadership = startLeadership({
      store,
      replicaId,
      ttlMs: leaseTtlMs,
      log: log.child({ component: 'leadership' }),
      lead: (term) => {
        if (queuesFollowLeader) {
          // The log is fenced by the term (queue-log.ts); the other replicas find this one under queues/owner. A log
          // that cannot be opened leaves SQS unavailable (503), not the other duties.
          try {
            queues.open({ revision: term.revision, holds: term.holds });
          } catch (err) {
            log.error({ err }, 'could not open the SQS queue log; SQS answers ServiceUnavailable this term');
          }
        }
        if (queuesFollowLeader && queues.held()) {
          const owner: QueueOwnerRecord = { url: `http://${hostPort(config.host, port)}`, replica: replicaId, revision: term.revision };
          void background(log, 'publishing the queues owner', () => term.store.txn([], [{ type: 'put', key: QUEUE_OWNER_KEY, value: JSON.stringify(owner) }]));
        }
        const mine = startLeaderDuties(term, {
          scope,
          log,
          registry,
          cache,
          ...launchesPerPass(config),
          logsDir,
          metrics: metricStore,
          utilization: {
            ...utilizationTiming,
            capacity: (cluster) => clusterCapacityOf([...cache.instances.cache.values()].map((c) => c.value), cluster),
            now: config.now ?? Date.now,
          },
          autoScaling: autoScalingEnv,
          events: {
            env: eventsEnv,
            runTask: runTaskAsRule({ ecs: services[0]!, sts: stsEnv, authorizer, accountId: config.accountId, log: log.child({ component: 'events' }) }),
            // Schedules' SQS, EventBridge and universal targets: berth's own APIs, in-process, as the target's role.
            callApi: callAsRole({ services: { ecs: services[0]!, sqs: sqs.json, events }, sts: stsEnv, authorizer, accountId: config.accountId, log: log.child({ component: 'events' }) }),
            // Targets' DeadLetterConfig queues: the leader holds the queues whenever it runs the dispatcher.
            deadLetter: (arn, body, attributes) => sendToQueue(queues.current(), arn, body, attributes, principal),
            ...(config.eventsDispatchMs !== undefined ? { intervalMs: config.eventsDispatchMs } : {}),
          },
          hostGroups: {
            provisioners,
            backendHost: `http://${hostPort(config.host, port)}`,
            ...(config.hostRegistrationTimeoutMs !== undefined ? { registrationTimeoutMs: config.hostRegistrationTimeoutMs } : {}),
            ...(config.hostGroupPassMs !== undefined ? { intervalMs: config.hostGroupPassMs } : {}),
          },
          managedScaling: {
            ...(config.managedScaling?.passMs !== undefined ? { intervalMs: config.managedScaling.passMs } : {}),
            ...(config.managedScaling?.scaleInAfterMs !== undefined ? { scaleInAfterMs: config.managedScaling.scaleInAfterMs } : {}),
            ...(config.managedScaling?.drainTimeoutMs !== undefined ? { drainTimeoutS: config.managedScaling.drainTimeoutMs / 1000 } : {}),
          },
          ...(config.alarmEvaluationMs !== undefined ? { alarmEvaluationMs: config.alarmEvaluationMs } : config.timeScale !== undefined ? { alarmEvaluationMs: 10_000 / config.timeScale } : {}),
          ...(config.now !== undefined ? { now: config.now } : {}),
          ...(config.secretPurgeMs !== undefined ? { secretPurgeMs: config.secretPurgeMs } : {}),
          ...(config.targetDrainMs !== undefined ? { targetDrainMs: config.targetDrainMs } : {}),
          ...(config.instanceLostAfterMs !== undefined ? { instanceLostAfterMs: config.instanceLostAfterMs } : {}),
          ...(config.serviceResyncMs !== undefined ? { serviceResyncMs: config.serviceResyncMs } : {}),
          ...(config.stoppedTaskRetentionMs !== undefined ? { stoppedTaskRetentionMs: config.stoppedTaskRetentionMs } : {}),
          ...(config.logSweepMs !== undefined ? { logSweepMs: config.logSweepMs } : {}),
        });
        duties = mine;
        return {
          async stop() {
            if (duties === mine) duties = undefined;
            await mine.stop();
            if (queuesFollowLeader) await queues.close();
          },
        };
      },
    });
    const running = leadership;
    return {
      url: `http://${bracketed(config.host)}:${port}`,
      port,
      rootKeys,
      store,
      logs,
      app,
      authorizer,
      registry,
      registryHost: registryHost(),
      ...(dns ? { dnsAddress: hostPort(config.dnsListen!.host, dns.server.port) } : {}),
      ...(metricsListener ? { metricsAddress: hostPort(config.metricsListen!.host, metricsListener.port) } : {}),
      replicaId,
      leadership: running,
      serviceController: {
        idle: async () => duties?.serviceController.idle(),
        passes: (key) => duties?.serviceController.passes(key) ?? 0,
        queueDepth: () => duties?.serviceController.queueDepth() ?? 0,
        stop: async () => {},
      },
      async stop() {
        // The leader lease first: another replica takes over the controllers at once.
        await running.stop();
        execGateway.stop();
        await gateway.stop();
        utilization.stop();
        await presence.stop();
        await app.close();
        await registryApp?.close();
        await dns?.server.stop();
        dns?.feed.stop();
        await metricsListener?.close();
        await queues.close();
        sqsForwarder?.close();
        await cleanup();
      },
    };
  } catch (error) {
    // What started before the failure (a taken port, say) stops first: a presence lease kept alive, a
    // gateway timer or an open listener would outlive the failed start.
    for (const stop of undo.reverse()) await Promise.resolve().then(stop).catch(() => undefined);
    await cleanup();
    throw error;
  }
}

/**
 * The provisioners host groups may name: `netns` when configured (hosts' directories under the data directory,
 * their agents signing as the IAM user of server/host-credentials.ts — docs/capacity.md), and each named command.
 */
function hostProvisionersOf(config: ServerConfig, credentials: () => Promise<HostKeys>, serverPort: () => number): Provisioners {
  const settings = config.hostProvisioners ?? {};
  const commands = new Map(Object.entries(settings.commands ?? {}).map(([name, path]) => [name, commandProvisioner({ path })]));
  const netns = settings.netns
    ? netnsProvisioner({
        dir: hostsDirOf(config),
        subnet: settings.netns.subnet,
        // One bridge per subnet (`bh-B-C` for A.B.C.0/24): two servers with their own subnets do not share one.
        bridge: settings.netns.bridge ?? `bh-${settings.netns.subnet.split('.').slice(1, 3).join('-')}`,
        serverPort,
        credentials,
        region: config.region,
      })
    : undefined;
  return provisionerSet(netns, commands);
}

/** Where the netns provisioner keeps its hosts' directories (and the key they sign with). */
const hostsDirOf = (config: ServerConfig) => join(config.dataDir ?? join(tmpdir(), 'berth-hosts'), 'hosts');

/**
 * The key ring that seals secret values: BERTH_KEK, else `<dir>/kek` beside the root credentials (the shared
 * directory with etcd, so every replica opens what any sealed). A memory store without a data directory keeps
 * nothing past the process, so a key of the process's own is enough there.
 */
/** `<hostname>:<port>`; with an ephemeral port (tests) something unique instead. */
function defaultReplicaId(config: ServerConfig): string {
  return config.port !== 0 ? `${hostname()}:${config.port}` : `${hostname()}:${process.pid}-${randomUUID().slice(0, 8)}`;
}

/**
 * The key-encryption key ring (identity/sealer.ts): BERTH_KEK, else the `kek` file beside the root credentials
 * (shared by replicas as they are). A server with neither (tests on the memory store) seals under a key of its own
 * that dies with it, as everything else it stored does.
 */
function sealerOf(config: ServerConfig): Sealer {
  const env = config.env ?? process.env;
  const dir = credentialsDir(config);
  if (env.BERTH_KEK || dir !== undefined) return loadSealer(dir, env);
  return new KeyRingSealer([{ id: 'ephemeral', key: randomBytes(32) }]);
}

/** With etcd every replica must verify the same root keys: they come from the shared directory. */
function credentialsDir(config: ServerConfig): string | undefined {
  return config.store === 'etcd' ? (config.sharedDir ?? config.dataDir) : config.dataDir;
}

function boundPort(app: FastifyInstance, fallback: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : fallback;
}

const bracketed = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** How clients name a listener: a wildcard address is reachable as this machine's name. */
/** The DNS address agents are told: an unspecified host stays unspecified (the agent uses the address it reached this replica at). */
function advertisedDns(host: string, port: number): string {
  return `${bracketed(host === '' ? '0.0.0.0' : host)}:${port}`;
}

function hostPort(host: string, port: number): string {
  const named = host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
  return `${bracketed(named)}:${port}`;
}

async function openStore(config: ServerConfig): Promise<Store> {
  if (config.storeInstance) return config.storeInstance;
  if (config.store === 'memory') return new MemoryStore();
  if (config.store === 'etcd') {
    const etcd = config.etcd;
    if (!etcd || etcd.endpoints.length === 0) throw new Error('--store etcd needs --etcd-endpoints (or BERTH_ETCD_ENDPOINTS)');
    const tls = etcd.ca !== undefined || etcd.cert !== undefined || etcd.key !== undefined
      ? { ...(etcd.ca !== undefined && { ca: etcd.ca }), ...(etcd.cert !== undefined && { cert: etcd.cert }), ...(etcd.key !== undefined && { key: etcd.key }) }
      : undefined;
    try {
      return await EtcdStore.open({ endpoints: etcd.endpoints, ...(tls && { tls }), ...(etcd.prefix !== undefined && { prefix: etcd.prefix }), ...(etcd.maxTxnOps !== undefined && { maxTxnOps: etcd.maxTxnOps }) });
    } catch (error) {
      throw new Error(`etcd at ${etcd.endpoints.join(', ')} is not reachable: ${(error as Error).message}`, { cause: error });
    }
  }
  const dir = requireDataDir(config);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new SqliteStore(join(dir, 'berth.db'));
}

function requireDataDir(config: ServerConfig): string {
  if (!config.dataDir) throw new Error('a data directory is required (--data-dir)');
  return config.dataDir;
}

/**
 * A service pass commits its launches in one transaction, two keys a task (the task and its instance) besides
 * what it read; on etcd that must fit `--max-txn-ops` (128 unless the cluster was started with more).
 */
function launchesPerPass(config: ServerConfig): { maxLaunchesPerPass?: number } {
  if (config.store !== 'etcd') return {};
  const ops = config.etcd?.maxTxnOps ?? 128;
  return { maxLaunchesPerPass: Math.max(1, Math.min(100, Math.floor((ops - 16) / 4))) };
}

/** RunTask calls arriving together commit in one transaction; on etcd it must fit `--max-txn-ops` (3 keys a task). */
function tasksPerCommit(config: ServerConfig): { maxTasksPerCommit?: number } {
  if (config.store !== 'etcd') return {};
  return { maxTasksPerCommit: Math.max(10, Math.floor(((config.etcd?.maxTxnOps ?? 128) - 16) / 3)) };
}
