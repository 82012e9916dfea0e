import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { DNS_SERVER_HEADER, type ExecStartMessage } from '../../model/acs.js';
import { parseOwnEcsArn } from '../../model/arn.js';
import { ServiceError } from '../../model/errors.js';
import { toErrorBody } from '../errors.js';
import { keys } from '../../state/keys.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { background } from '../../process/background.js';
import { upgradeRequest, type SigV4Verifier } from '../auth/sigv4.js';
import { sourceIpOf, type Authorizer } from '../authz/authorizer.js';
import type { EcsEnv } from '../ecs/env.js';
import type { SessionPresence } from './presence.js';
import { AgentSession, type SessionOptions } from './session.js';
import { SessionCredentials, type TaskRoleIssuer } from './task-role-credentials.js';
import { parseInstanceRecord } from '../../state/records/instances.js';
import { pollAction, type SessionRequest } from './iam-actions.js';

export interface GatewayOptions {
  readonly env: EcsEnv;
  readonly verifier: SigV4Verifier;
  /**
   * The authorization step: the upgrade is `ecs:Poll` on the container instance (iam-actions.ts). Without it every
   * authenticated agent may open a session (tests of the gateway alone).
   */
  readonly authorizer?: Authorizer;
  readonly log: FastifyBaseLogger;
  /** Where this replica publishes its sessions (presence keys on its lease). */
  readonly presence: SessionPresence;
  /** How often the control plane sends HeartbeatMessage (default 10 s). */
  readonly heartbeatMs?: number;
  /** Silence after which a session is dropped and its presence withdrawn (default 25 s). */
  readonly silenceMs?: number;
  /** Credentials for tasks' roles (taskRoleArn, executionRoleArn); without it tasks get none. */
  readonly taskRoles?: TaskRoleIssuer;
  /** Takes the agents' checked PublishMetricsRequest figures (AWS/ECS utilization); without it they are dropped. */
  readonly utilization?: SessionOptions['utilization'];
  /** This replica's DNS server as agents should reach it (`host:port`), sent on every session's upgrade; none: no DNS. */
  readonly dnsServer?: () => string | undefined;
}

export const SESSION_PATH = '/ws';

/**
 * The agents' side door: one WebSocket session per container instance (ACS-style), authenticated with
 * SigV4 on the upgrade request. It pushes the tasks placed on an instance to its agent as they change in
 * the store, and publishes each live session as a presence key on this replica's lease (see presence.ts).
 *
 * Liveness lives in the store, not in this process: the leader's instance monitor derives `agentConnected`
 * from the presence keys of every replica, so a replica starting or dying never flips another's agents.
 */
export class AgentGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly sessions = new Map<string, AgentSession>();
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private readonly silenceMs: number;
  /** Other WebSocket doors on the listener (ECS Exec's streams): each takes the upgrades whose path is its own. */
  private readonly otherUpgrades: ((req: IncomingMessage, socket: Duplex, head: Buffer) => boolean)[] = [];

  constructor(private readonly options: GatewayOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.silenceMs = options.silenceMs ?? 25_000;
    this.wss.on('headers', (headers) => {
      const dns = options.dnsServer?.();
      if (dns) headers.push(`${DNS_SERVER_HEADER}: ${dns}`);
    });
  }

  async start(server: Server): Promise<void> {
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

  /** Close every session; the caller then stops the presence (revoking its lease withdraws them all at once). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    for (const session of this.sessions.values()) session.close(1001, 'server shutting down');
    this.wss.close();
  }

  /** Hand the listener's other WebSocket upgrades to `handler` (true: it took the upgrade). */
  addUpgradeHandler(handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean): void {
    this.otherUpgrades.push(handler);
  }

  /** Tell the instance's agent to open an ECS Exec session; false when its session is not on this replica. */
  sendExecStart(cluster: string, instanceId: string, message: ExecStartMessage): boolean {
    const session = this.sessions.get(`${cluster}/${instanceId}`);
    return session ? session.sendExecStart(message) : false;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== SESSION_PATH) {
      if (!this.otherUpgrades.some((take) => take(req, socket, head))) socket.destroy();
      return;
    }
    try {
      const { principal } = await this.options.verifier.verify(upgradeRequest(req, url));
      // As on the APIs: signature, then the request's own checks, then authorization, and only then a look at the
      // store, so a caller without ecs:Poll learns nothing of which instances exist.
      const request = this.sessionRequest(url.searchParams);
      await this.options.authorizer?.authorize({
        principal,
        declaration: pollAction,
        input: request,
        sourceIp: sourceIpOf(req.socket.remoteAddress),
        secureTransport: (req.socket as { encrypted?: boolean }).encrypted === true,
      });
      const { cluster, instance } = await this.findInstance(request);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, cluster, instance));
    } catch (error) {
      const { status, type, message } = toErrorBody(error);
      // A server fault is logged with its cause, as on the JSON APIs (it was answered and forgotten).
      if (status >= 500) this.options.log.error({ err: error }, 'agent session upgrade failed');
      const body = JSON.stringify({ __type: type, message });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
  }

  /** The query's container instance, which must be an ARN of this account and region naming its cluster. */
  private sessionRequest(params: URLSearchParams): SessionRequest & { readonly id: string } {
    const containerInstanceArn = params.get('containerInstanceArn') ?? '';
    const [cluster, id] = parseOwnEcsArn(this.options.env.scope, containerInstanceArn, 'container-instance')?.split('/') ?? [];
    if (!cluster || !id) throw new ServiceError('InvalidParameterException', 'Unknown container instance: register it first.');
    return { containerInstanceArn, cluster, id };
  }

  private async findInstance({ cluster, id }: SessionRequest & { readonly id: string }): Promise<{ cluster: string; instance: InstanceRecord }> {
    const env = this.options.env;
    const record = await env.store.get(keys.containerInstance(cluster, id));
    const instance = record && (parseInstanceRecord(record.value, record.key));
    if (!instance) throw new ServiceError('InvalidParameterException', 'Unknown container instance: register it first.');
    if (instance.instance.status === 'INACTIVE') {
      throw new ServiceError('InvalidParameterException', 'InactiveInstanceException: the container instance was deregistered.');
    }
    return { cluster, instance };
  }

  private open(ws: WebSocket, cluster: string, instance: InstanceRecord): void {
    const key = `${cluster}/${instance.id}`;
    this.sessions.get(key)?.close(4000, 'replaced by a newer session');
    const log = this.options.log.child({ instance: instance.instance.containerInstanceArn });
    const sessionId = randomUUID();
    const session = new AgentSession({
      ws,
      env: this.options.env,
      cluster,
      instance,
      log,
      heartbeatMs: this.heartbeatMs,
      ...(this.options.utilization ? { utilization: this.options.utilization } : {}),
      ...(this.options.taskRoles ? { credentials: new SessionCredentials(this.options.taskRoles, this.options.env.now) } : {}),
      onClose: () => {
        if (this.sessions.get(key) !== session) return;
        this.sessions.delete(key);
        void background(log, "withdraw the agent session (it goes with this replica's lease otherwise)", () =>
          this.options.presence.withdraw(cluster, instance.id, sessionId),
        );
      },
    });
    this.sessions.set(key, session);
    log.info('agent connected');
    void background(log, 'announce the agent session and send its tasks', async () => {
      try {
        await this.options.presence.announce(cluster, instance.id, sessionId);
        await session.sendAllTasks();
      } catch (error) {
        // Without its tasks the session would only hear later changes: drop it, so the agent reconnects
        // (to this replica or another) and gets them all then.
        session.close(1011, 'could not send the instance its tasks');
        throw error;
      }
    });
  }
}
