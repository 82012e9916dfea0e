import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { CredentialChain, loadRootKeyPair, rootPrincipal, StaticCredentials, type RootKeyPair } from '../api/auth/credentials.js';
import { SigV4Verifier } from '../api/auth/sigv4.js';
import { ecrService } from '../api/ecr/index.js';
import type { EcrEnv } from '../api/ecr/env.js';
import { ecsService } from '../api/ecs/index.js';
import type { EcsEnv } from '../api/ecs/env.js';
import { buildHttpServer } from '../api/http-server.js';
import { AgentGateway } from '../api/acs/gateway.js';
import { startServiceController, type ServiceController } from '../controllers/service-controller.js';
import { startStoppedTaskReaper } from '../controllers/stopped-task-reaper.js';
import { startTaskDefinitionReaper } from '../controllers/task-definition-reaper.js';
import { logsService } from '../logs/index.js';
import { startLogSweep } from '../logs/retention-sweep.js';
import { LogDatabase } from '../logs/storage/database.js';
import { buildRegistryServer } from '../registry/http/server.js';
import { registryRoutes } from '../registry/http/routes.js';
import { openRegistry, type Registry } from '../registry/registry.js';
import { ClusterCache } from '../state/cluster-cache.js';
import { MemoryStore } from '../store/memory.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';

/** Everything `berth server` needs, compiled once from flags and environment (see cli/server-command.ts). */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Where the store and the generated credentials live; omitted with `store: 'memory'`. */
  readonly dataDir?: string;
  readonly store: 'sqlite' | 'memory';
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
  /** Agent session timing (tests shorten these). */
  readonly heartbeatMs?: number;
  readonly agentSilenceMs?: number;
  /** How long STOPPED tasks stay describable (default 1 h). */
  readonly stoppedTaskRetentionMs?: number;
  /** How often log retention is applied and deleted log streams are purged (default 5 min). */
  readonly logSweepMs?: number;
  /** An instance whose agent has been disconnected this long is lost: its service tasks are replaced (default 5 min). */
  readonly instanceLostAfterMs?: number;
  /** How often the service controller looks at every service without an event (default 30 s). */
  readonly serviceResyncMs?: number;
}

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly rootKeys: RootKeyPair;
  readonly store: Store;
  /** Log groups, streams and events (the CloudWatch Logs API's storage). */
  readonly logs: LogDatabase;
  readonly app: FastifyInstance;
  readonly registry: Registry;
  /** `host:port` of the registry as clients name it (the host part of repositoryUris). */
  readonly registryHost: string;
  readonly serviceController: ServiceController;
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const log = config.logger ?? pino({ level: 'info' });
  const store = openStore(config);
  const registryDir = config.registryDir ?? (config.dataDir ? join(config.dataDir, 'registry') : mkdtempSync(join(tmpdir(), 'berth-registry-')));
  const ownsRegistryDir = config.registryDir === undefined && config.dataDir === undefined;
  let logs: LogDatabase | undefined;
  let clusterCache: ClusterCache | undefined;
  const cleanup = async () => {
    clusterCache?.stop();
    logs?.close();
    await store.close();
    if (ownsRegistryDir) rmSync(registryDir, { recursive: true, force: true });
  };
  try {
    const logDb = (logs = openLogDatabase(config));
    const rootKeys: RootKeyPair = config.rootKeys
      ? { ...config.rootKeys, source: 'environment' }
      : loadRootKeyPair(config.dataDir, config.env ?? process.env);
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
    const ecsEnv: EcsEnv = { store, cache, scope, now: Date.now };
    const ecrEnv: EcrEnv = { registry, scope, registryHost, registryScheme: config.registryScheme ?? 'http' };
    const services = [ecsService(ecsEnv), ecrService(ecrEnv), logsService({ db: logDb, scope, now: Date.now })];
    const verifier = new SigV4Verifier({
      credentials: new CredentialChain([new StaticCredentials({ ...rootKeys, principal })]),
      region: config.region,
      // Each API mounted on the listener brings the signing names it accepts (ecs, ecr, logs).
      services: new Set(services.flatMap((s) => s.signingNames)),
    });
    const app = await buildHttpServer({
      logger: log,
      verifier,
      services,
      ...(config.checkResponses !== undefined ? { checkResponses: config.checkResponses } : {}),
    });
    const registryApp = config.registryListen ? await buildRegistryServer({ logger: log, registry }) : undefined;
    if (!registryApp) await registryRoutes(app, { registry });
    const reaper = startTaskDefinitionReaper({ store, tasks: cache.tasks, log: log.child({ controller: 'task-definition-reaper' }) });
    const stoppedTasks = startStoppedTaskReaper({
      store,
      tasks: cache.tasks,
      log: log.child({ controller: 'stopped-task-reaper' }),
      ...(config.stoppedTaskRetentionMs !== undefined ? { retentionMs: config.stoppedTaskRetentionMs } : {}),
    });
    const serviceController = startServiceController({
      store,
      cache,
      scope,
      log: log.child({ controller: 'services' }),
      ...(config.instanceLostAfterMs !== undefined ? { instanceLostAfterMs: config.instanceLostAfterMs } : {}),
      ...(config.serviceResyncMs !== undefined ? { resyncMs: config.serviceResyncMs } : {}),
    });
    const gateway = new AgentGateway({
      env: ecsEnv,
      verifier,
      log: log.child({ component: 'agent-gateway' }),
      ...(config.heartbeatMs !== undefined ? { heartbeatMs: config.heartbeatMs } : {}),
      ...(config.agentSilenceMs !== undefined ? { silenceMs: config.agentSilenceMs } : {}),
    });
    const logSweep = startLogSweep({
      db: logDb,
      now: Date.now,
      log: log.child({ component: 'log-sweep' }),
      ...(config.logSweepMs !== undefined ? { intervalMs: config.logSweepMs } : {}),
    });
    await gateway.start(app.server);
    await app.listen({ host: config.host, port: config.port });
    const port = boundPort(app, config.port);
    if (registryApp && config.registryListen) {
      await registryApp.listen({ host: config.registryListen.host, port: config.registryListen.port });
      boundRegistryHost = hostPort(config.registryListen.host, boundPort(registryApp, config.registryListen.port));
    } else {
      boundRegistryHost = hostPort(config.host, port);
    }
    registry.start();
    return {
      url: `http://${bracketed(config.host)}:${port}`,
      port,
      rootKeys,
      store,
      logs: logDb,
      app,
      registry,
      registryHost: registryHost(),
      serviceController,
      async stop() {
        await serviceController.stop();
        await gateway.stop();
        await app.close();
        await stoppedTasks.stop();
        await registryApp?.close();
        await registry.stop();
        await reaper.stop();
        await logSweep.stop();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function boundPort(app: FastifyInstance, fallback: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : fallback;
}

const bracketed = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** How clients name a listener: a wildcard address is reachable as this machine's name. */
function hostPort(host: string, port: number): string {
  const named = host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
  return `${bracketed(named)}:${port}`;
}

/** Log events live beside the store, in their own database (in memory with the memory store). */
function openLogDatabase(config: ServerConfig): LogDatabase {
  if (config.store === 'memory') return LogDatabase.open(':memory:');
  return LogDatabase.open(join(requireDataDir(config), 'logs.db'));
}

function openStore(config: ServerConfig): Store {
  if (config.store === 'memory') return new MemoryStore();
  const dir = requireDataDir(config);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new SqliteStore(join(dir, 'berth.db'));
}

function requireDataDir(config: ServerConfig): string {
  if (!config.dataDir) throw new Error('a data directory is required (--data-dir)');
  return config.dataDir;
}
