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
}

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly rootKeys: RootKeyPair;
  readonly store: Store;
  readonly app: FastifyInstance;
  stop(): Promise<void>;
}

/** Signing names the listener accepts; each API mounted on it adds its own. */
const SIGNING_NAMES = ['ecs'];

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const log = config.logger ?? pino({ level: 'info' });
  const store = openStore(config);
  try {
    const rootKeys: RootKeyPair = config.rootKeys
      ? { ...config.rootKeys, source: 'environment' }
      : loadRootKeyPair(config.dataDir, config.env ?? process.env);
    const principal = rootPrincipal(config.accountId);
    const verifier = new SigV4Verifier({
      credentials: new CredentialChain([new StaticCredentials({ ...rootKeys, principal })]),
      region: config.region,
      services: new Set(SIGNING_NAMES),
    });
    const env: EcsEnv = { store, scope: { region: config.region, accountId: config.accountId }, now: Date.now };
    const app = await buildHttpServer({
      logger: log,
      verifier,
      services: [ecsService(env)],
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
      app,
      async stop() {
        await gateway.stop();
        await app.close();
        stoppedTasks.stop();
        await reaper.stop();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
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
