import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { CredentialChain, loadRootKeyPair, rootPrincipal, StaticCredentials, type RootKeyPair } from '../api/auth/credentials.js';
import { SigV4Verifier } from '../api/auth/sigv4.js';
import { ecsService } from '../api/ecs/index.js';
import type { EcsEnv } from '../api/ecs/env.js';
import { buildHttpServer } from '../api/http-server.js';
import { AgentGateway } from '../api/acs/gateway.js';
import { startStoppedTaskReaper } from '../controllers/stopped-task-reaper.js';
import { startTaskDefinitionReaper } from '../controllers/task-definition-reaper.js';
import { logsService } from '../logs/index.js';
import { startLogSweep } from '../logs/retention-sweep.js';
import { LogDatabase } from '../logs/storage/database.js';
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
  /** Agent session timing (tests shorten these). */
  readonly heartbeatMs?: number;
  readonly agentSilenceMs?: number;
  /** How long STOPPED tasks stay describable (default 1 h). */
  readonly stoppedTaskRetentionMs?: number;
  /** How often log retention is applied and deleted log streams are purged (default 5 min). */
  readonly logSweepMs?: number;
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
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const log = config.logger ?? pino({ level: 'info' });
  const store = openStore(config);
  let logs: LogDatabase | undefined;
  try {
    const logDb = (logs = openLogDatabase(config));
    const rootKeys: RootKeyPair = config.rootKeys
      ? { ...config.rootKeys, source: 'environment' }
      : loadRootKeyPair(config.dataDir, config.env ?? process.env);
    const principal = rootPrincipal(config.accountId);
    const scope = { region: config.region, accountId: config.accountId };
    const env: EcsEnv = { store, scope, now: Date.now };
    const services = [ecsService(env), logsService({ db: logDb, scope, now: Date.now })];
    const verifier = new SigV4Verifier({
      credentials: new CredentialChain([new StaticCredentials({ ...rootKeys, principal })]),
      region: config.region,
      // Each mounted API brings the signing names its clients use (ecs, logs).
      services: new Set(services.flatMap((s) => s.signingNames)),
    });
    const app = await buildHttpServer({
      logger: log,
      verifier,
      services,
      ...(config.checkResponses !== undefined ? { checkResponses: config.checkResponses } : {}),
    });
    const reaper = startTaskDefinitionReaper({ store, log: log.child({ controller: 'task-definition-reaper' }) });
    const stoppedTasks = startStoppedTaskReaper({
      store,
      log: log.child({ controller: 'stopped-task-reaper' }),
      ...(config.stoppedTaskRetentionMs !== undefined ? { retentionMs: config.stoppedTaskRetentionMs } : {}),
    });
    const gateway = new AgentGateway({
      env,
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
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      url: `http://${host}:${port}`,
      port,
      rootKeys,
      store,
      logs: logDb,
      app,
      async stop() {
        await gateway.stop();
        await app.close();
        stoppedTasks.stop();
        await reaper.stop();
        await logSweep.stop();
        logDb.close();
        await store.close();
      },
    };
  } catch (error) {
    logs?.close();
    await store.close();
    throw error;
  }
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
