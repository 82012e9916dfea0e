import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseOwnEcsArn } from '../../model/arn.js';
import { ServiceError } from '../../model/errors.js';
import { toErrorBody } from '../errors.js';
import { keys } from '../../state/keys.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { background } from '../../process/background.js';
import { transact } from '../../store/transact.js';
import type { SigV4Verifier } from '../auth/sigv4.js';
import type { EcsEnv } from '../ecs/env.js';
import { AgentSession } from './session.js';
import { parseInstanceRecord } from '../../state/records/instances.js';

export interface GatewayOptions {
  readonly env: EcsEnv;
  readonly verifier: SigV4Verifier;
  readonly log: FastifyBaseLogger;
  /** How often the control plane sends HeartbeatMessage (default 10 s). */
  readonly heartbeatMs?: number;
  /** Silence after which a session is dropped and its instance marked disconnected (default 25 s). */
  readonly silenceMs?: number;
}

export const SESSION_PATH = '/ws';

/**
 * The agents' side door: one WebSocket session per container instance (ACS-style), authenticated with
 * SigV4 on the upgrade request. It pushes the tasks placed on an instance to its agent as they change in
 * the store, and keeps `agentConnected` true exactly while a live session exists.
 *
 * berth runs one control-plane process, so liveness is tracked in memory and only transitions are
 * written; at start every instance is marked disconnected until its agent reconnects.
 */
export class AgentGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly sessions = new Map<string, AgentSession>();
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly silenceMs: number;
  /** Once stopping, sessions closing are not disconnections to record (the next start resets them all). */
  private stopping = false;

  constructor(private readonly options: GatewayOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.silenceMs = options.silenceMs ?? 25_000;
  }

  async start(server: Server): Promise<void> {
    await this.markAllDisconnected();
    const log = this.options.log;
    server.on('upgrade', (req, socket, head) => {
      void background(log, 'agent session upgrade', () => this.upgrade(req, socket, head));
    });
    // Task changes come from the process's one tasks informer (re-listed and re-watched on any error, so a
    // broken watch costs a delay, not lost pushes).
    const taskChanged = (t: TaskRecord) => {
      if (t.instanceId) this.sessions.get(`${t.cluster}/${t.instanceId}`)?.taskChanged(t.id);
    };
    this.unsubscribe = this.options.env.cache.tasks.subscribe({ added: (_k, t) => taskChanged(t), updated: (_k, _old, t) => taskChanged(t) });
    this.timer = setInterval(() => {
      for (const session of this.sessions.values()) session.tick(Date.now(), this.silenceMs);
    }, Math.min(this.heartbeatMs, 5_000));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    for (const session of this.sessions.values()) session.close(1001, 'server shutting down');
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== SESSION_PATH) {
      socket.destroy();
      return;
    }
    try {
      await this.options.verifier.verify({
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0]!,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: new Uint8Array(),
      });
      const { cluster, instance } = await this.findInstance(url.searchParams);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, cluster, instance));
    } catch (error) {
      const { status, type, message } = toErrorBody(error);
      const body = JSON.stringify({ __type: type, message });
      socket.end(
        `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 500 ? 'Internal Server Error' : 'Bad Request'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
  }

  private async findInstance(params: URLSearchParams): Promise<{ cluster: string; instance: InstanceRecord }> {
    const env = this.options.env;
    const [cluster, id] = parseOwnEcsArn(env.scope, params.get('containerInstanceArn') ?? '', 'container-instance')?.split('/') ?? [];
    const record = cluster && id ? await env.store.get(keys.containerInstance(cluster, id)) : undefined;
    const instance = record && (parseInstanceRecord(record.value, record.key));
    if (!instance) throw new ServiceError('InvalidParameterException', 'Unknown container instance: register it first.');
    if (instance.instance.status === 'INACTIVE') {
      throw new ServiceError('InvalidParameterException', 'InactiveInstanceException: the container instance was deregistered.');
    }
    return { cluster: cluster!, instance };
  }

  private open(ws: WebSocket, cluster: string, instance: InstanceRecord): void {
    const key = `${cluster}/${instance.id}`;
    this.sessions.get(key)?.close(4000, 'replaced by a newer session');
    const log = this.options.log.child({ instance: instance.instance.containerInstanceArn });
    const session = new AgentSession({
      ws,
      env: this.options.env,
      cluster,
      instance,
      log,
      heartbeatMs: this.heartbeatMs,
      onClose: () => {
        if (this.sessions.get(key) !== session) return;
        this.sessions.delete(key);
        if (!this.stopping) void background(log, 'record the agent disconnected', () => this.setConnected(cluster, instance.id, false));
      },
    });
    this.sessions.set(key, session);
    log.info('agent connected');
    void background(log, 'record the agent connected and send its tasks', async () => {
      await this.setConnected(cluster, instance.id, true);
      await session.sendAllTasks();
    });
  }

  private async setConnected(cluster: string, id: string, connected: boolean): Promise<void> {
    try {
      await transact(this.options.env.store, async (tx) => {
        const key = keys.containerInstance(cluster, id);
        const current = await tx.getRecord(parseInstanceRecord, key);
        if (!current || current.instance.agentConnected === connected) return;
        const { disconnectedAt: _since, ...rest } = current;
        tx.putJson(key, {
          ...rest,
          instance: { ...current.instance, agentConnected: connected, version: (current.instance.version ?? 0) + 1 },
          ...(connected ? { lastSeenAt: Date.now() } : { disconnectedAt: Date.now() }),
        } satisfies InstanceRecord);
      });
    } catch (err) {
      this.options.log.error({ err, cluster, id, connected }, 'could not record agent connection state');
    }
  }

  private async markAllDisconnected(): Promise<void> {
    const { entries } = await this.options.env.store.range(keys.containerInstances());
    for (const e of entries) {
      const r = parseInstanceRecord(e.value, e.key);
      if (r.instance.agentConnected) await this.setConnected(r.cluster, r.id, false);
    }
  }
}
