import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import WebSocket, { WebSocketServer } from 'ws';
import { keys } from '../../state/keys.js';
import { parsePresenceRecord } from '../../state/records/presence.js';
import type { Store } from '../../store/store.js';
import { upgradeRequest, type SigV4Verifier } from '../auth/sigv4.js';
import { toErrorBody } from '../errors.js';
import { ServiceError } from '../../model/errors.js';
import { rawBuffer, send } from './exec-pipe.js';
import { SigV4Signer } from '../../process/sigv4-signer.js';

/**
 * ECS Exec across replicas. The client's stream ends on the replica that answered ExecuteCommand (A); the agent's
 * session may be on another one (B), found in the store under `presence/<cluster>/<instance>` with B's address. A
 * opens a WebSocket to B's `EXEC_RELAY_PATH<sessionId>`, its upgrade SigV4-signed with the root key pair every
 * replica has (so only a replica, or the account's root, can open one), naming what to run in its signed query. B
 * tells the agent on its session, as for a local session, and completes the upgrade only once the agent's socket
 * came: from then on B copies frames both ways unchanged, and on A the relay socket stands for the agent's (the
 * client's pipe, its audit and its checks stay on A). When B cannot (no session of the agent there, the agent does
 * not come), the upgrade is answered with an HTTP error whose message A passes to the client.
 *
 *   client ─ws─▶ A ──ws /ecs-exec-relay/<id>, signed──▶ B ◀─ws /ecs-exec-agent/<id>── agent
 *
 * On B, a relayed session is:  waiting ──agent's socket──▶ piping ──either side closes──▶ ended
 *                                 └── no agent in time, the task stops, A gives up ──▶ ended (HTTP error, or closed)
 */
export const EXEC_RELAY_PATH = '/ecs-exec-relay/';

/** What the agent is to run: everything ExecStartMessage needs but its token (each replica makes its own). */
export interface RelayStart {
  readonly sessionId: string;
  readonly cluster: string;
  readonly taskId: string;
  readonly instanceId: string;
  readonly taskArn: string;
  readonly containerName: string;
  /** ExecuteCommand's command, as given (split by the replica that sends it to the agent). */
  readonly command: string;
  readonly tty: boolean;
  readonly cols?: number;
  readonly rows?: number;
}

/** A relay being opened: its socket (to give up on it) and the socket once B has the agent's. */
export interface RelayOpening {
  readonly socket: WebSocket;
  readonly opened: Promise<WebSocket>;
}

export interface ExecRelayDialerOptions {
  readonly store: Store;
  readonly replicaId: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** How long B may take to answer the upgrade (it waits for the agent first). */
  readonly handshakeTimeoutMs: number;
}

/** A's side: finds the replica holding the agent's session and opens the relay to it. */
export class ExecRelayDialer {
  /** Made once, so the derived signing keys are kept (a signer per relay would derive them each time). */
  private readonly signer: SigV4Signer;

  constructor(private readonly o: ExecRelayDialerOptions) {
    this.signer = new SigV4Signer({ credentials: o.credentials, region: o.region, service: 'ecs' });
  }

  /** Undefined when no other replica (with a known address) holds the instance's agent. */
  async open(start: RelayStart): Promise<RelayOpening | undefined> {
    const key = keys.presence(start.cluster, start.instanceId);
    const entry = await this.o.store.get(key);
    const holder = entry ? parsePresenceRecord(entry.value, key) : undefined;
    if (!holder?.url || holder.replica === this.o.replicaId) return undefined;
    const url = new URL(`${EXEC_RELAY_PATH.slice(1)}${encodeURIComponent(start.sessionId)}`, holder.url.endsWith('/') ? holder.url : `${holder.url}/`);
    const query = relayQuery(start);
    const headers = await this.signer.sign({ method: 'GET', host: url.host, path: url.pathname, query });
    url.search = new URLSearchParams(query).toString();
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url, { headers, handshakeTimeout: this.o.handshakeTimeoutMs });
    const opened = new Promise<WebSocket>((resolve, reject) => {
      socket.once('open', () => resolve(socket));
      socket.on('error', (error) => reject(new Error(`the replica holding the agent (${holder.replica}) could not be reached: ${error.message}`)));
      socket.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          reject(new Error(refusalMessage(Buffer.concat(chunks).toString(), res.statusCode ?? 0)));
          socket.terminate();
        });
        res.on('error', () => socket.terminate());
      });
    });
    return { socket, opened };
  }
}

/** The part of the session gateway B needs: tell the agent, have `side` take its socket (exec-gateway.ts). */
export interface AgentSummoner {
  summonAgent(start: RelayStart, side: { attach(agent: WebSocket): void; fail(message: string): void }): (() => void) | undefined;
}

export interface ExecRelayEndpointOptions {
  readonly gateway: AgentSummoner;
  readonly verifier: SigV4Verifier;
  readonly accountId: string;
  readonly log: FastifyBaseLogger;
  /** How long the agent has to come (default 15 s). */
  readonly openTimeoutMs?: number;
}

/** B's side: takes relay upgrades from other replicas. */
export class ExecRelayEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  constructor(private readonly o: ExecRelayEndpointOptions) {}

  /** Takes the upgrade when its path is the relay's; false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(EXEC_RELAY_PATH)) return false;
    this.accept(req, socket, head, url).catch((error: unknown) => {
      const { status, type, message } = toErrorBody(error);
      if (status >= 500) this.o.log.error({ err: error }, 'an ECS Exec relay upgrade failed');
      refuseUpgrade(socket, status, type, message);
    });
    return true;
  }

  close(): void {
    this.wss.close();
  }

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const { principal } = await this.o.verifier.verify(upgradeRequest(req, url));
    if (principal.type !== 'Root' || principal.accountId !== this.o.accountId) {
      throw new ServiceError('AccessDeniedException', 'only a replica of berth (signing with the root key pair) may relay an ECS Exec session');
    }
    const start = parseRelayQuery(decodeURIComponent(url.pathname.slice(EXEC_RELAY_PATH.length)), url.searchParams);
    const session = new RelayedSession(this.wss, req, socket, head, this.o.log);
    const forget = this.o.gateway.summonAgent(start, session);
    if (!forget) throw new ServiceError('TargetNotConnectedException', "the agent's session is no longer on the replica it was found on; call ExecuteCommand again");
    session.onEnd = forget;
    session.timeout(this.o.openTimeoutMs ?? 15_000);
  }
}

/** One session relayed through this replica (B): see the diagram above. */
class RelayedSession {
  private state: 'waiting' | 'piping' | 'ended' = 'waiting';
  private timer?: NodeJS.Timeout;
  private relay?: WebSocket;
  onEnd: () => void = () => {};

  constructor(
    private readonly wss: WebSocketServer,
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly log: FastifyBaseLogger,
  ) {
    socket.once('close', () => {
      if (this.state === 'waiting') this.end();
    });
  }

  timeout(ms: number): void {
    this.timer = setTimeout(() => this.fail('the agent did not open the session in time'), ms);
  }

  attach(agent: WebSocket): void {
    if (this.state !== 'waiting' || this.socket.destroyed) {
      agent.close(1008, 'session already ended');
      return;
    }
    this.state = 'piping';
    clearTimeout(this.timer);
    // Output the agent sends while the upgrade completes waits for the relay socket.
    const early: { data: Buffer; binary: boolean }[] = [];
    agent.on('message', (data, binary) => (this.relay ? this.relay.send(rawBuffer(data), { binary }) : early.push({ data: rawBuffer(data), binary })));
    agent.on('close', () => (this.relay ? this.relay.close(1000, 'session ended') : this.end()));
    agent.on('error', (err) => this.log.warn({ err: err.message }, 'exec agent socket error (relayed session)'));
    this.wss.handleUpgrade(this.req, this.socket, this.head, (ws) => {
      this.relay = ws;
      for (const f of early.splice(0)) ws.send(f.data, { binary: f.binary });
      if (agent.readyState !== WebSocket.OPEN) ws.close(1000, 'session ended');
      ws.on('message', (data, binary) => agent.send(rawBuffer(data), { binary }));
      ws.on('close', () => {
        agent.close(1000, 'session ended');
        this.end();
      });
      ws.on('error', (err) => this.log.warn({ err: err.message }, 'exec relay socket error'));
    });
  }

  /** Before the agent came: the upgrade is refused with `message`; after: an `error` frame, and the relay closes. */
  fail(message: string): void {
    if (this.state === 'piping' && this.relay) {
      send(this.relay, { type: 'error', message });
      this.relay.close(1000, 'session ended');
      return;
    }
    if (this.state !== 'waiting') return;
    refuseUpgrade(this.socket, 504, 'TargetNotConnectedException', message);
    this.end();
  }

  private end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.timer);
    this.onEnd();
  }
}

function relayQuery(start: RelayStart): Record<string, string> {
  return {
    cluster: start.cluster,
    taskId: start.taskId,
    instanceId: start.instanceId,
    taskArn: start.taskArn,
    container: start.containerName,
    command: start.command,
    tty: String(start.tty),
    ...(start.cols !== undefined && start.rows !== undefined ? { cols: String(start.cols), rows: String(start.rows) } : {}),
  };
}

function parseRelayQuery(sessionId: string, q: URLSearchParams): RelayStart {
  const need = (name: string): string => {
    const v = q.get(name);
    if (!v) throw new ServiceError('InvalidParameterException', `the relay request has no '${name}'`);
    return v;
  };
  const size = (name: string) => {
    const v = Number(q.get(name));
    return Number.isInteger(v) && v >= 1 && v <= 65_535 ? v : undefined;
  };
  const cols = size('cols');
  const rows = size('rows');
  return {
    sessionId,
    cluster: need('cluster'),
    taskId: need('taskId'),
    instanceId: need('instanceId'),
    taskArn: need('taskArn'),
    containerName: need('container'),
    command: need('command'),
    tty: q.get('tty') === 'true',
    ...(cols !== undefined && rows !== undefined ? { cols, rows } : {}),
  };
}

/** The message of B's refusal body (`{"__type","message"}`), or what was answered. */
export function refusalMessage(body: string, status: number): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: said below
  }
  return `the replica holding the agent answered HTTP ${status}`;
}

function refuseUpgrade(socket: Duplex, status: number, type: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ __type: type, message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
