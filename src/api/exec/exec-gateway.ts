import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import WebSocket, { WebSocketServer } from 'ws';
import type { ExecStartMessage } from '../../model/acs.js';
import { EXEC_AGENT_PATH, EXEC_CLIENT_PATH, parseControl, splitCommand } from '../../model/exec-stream.js';
import { keys } from '../../state/keys.js';
import { parseExecSessionRecord, type ExecSessionRecord } from '../../state/records/exec-sessions.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { transact } from '../../store/transact.js';
import type { EcsEnv } from '../ecs/env.js';
import { sha256Hex } from '../ecs/execute-command.js';
import { ExecPipe, rawBuffer, send, type ExecAuditSink } from './exec-pipe.js';
import type { ExecRelayDialer, RelayStart } from './exec-relay.js';

/** The agent sessions of this replica, as far as ECS Exec needs them. */
export interface AgentSessions {
  /** Send ExecStartMessage on the instance's session; false when this replica does not hold it. */
  sendExecStart(cluster: string, instanceId: string, message: ExecStartMessage): boolean;
}

export interface ExecGatewayOptions {
  readonly env: EcsEnv;
  readonly agents: AgentSessions;
  readonly audit?: ExecAuditSink;
  readonly log: FastifyBaseLogger;
  /** Reaches the agent through the replica holding its session when this one does not (exec-relay.ts). */
  readonly relay?: ExecRelayDialer;
  /** How long the client has to say `open`, and the agent to come once told (default 15 s each). */
  readonly openTimeoutMs?: number;
}

/** What takes the agent's socket: the client's pipe, or (on the replica a session is relayed to) the relay. */
export interface AgentSide {
  attach(agent: WebSocket): void;
  fail(message: string): void;
}

interface Waiting {
  readonly side: AgentSide;
  readonly agentToken: string;
  readonly cluster: string;
  readonly taskId: string;
}

/** Why a client's open is refused, said to it before the socket closes. */
class OpenRefused extends Error {}

/**
 * ECS Exec's streams on this replica's listener (model/exec-stream.ts has the protocol): a client opens
 * `EXEC_CLIENT_PATH<sessionId>` and says the session's token; the session's record (ExecuteCommand wrote it) is
 * taken, once; the agent holding the task is told on its session to open `EXEC_AGENT_PATH<sessionId>` with a token
 * of its own; the two sockets are then piped (exec-pipe.ts). Sessions of a task end when it stops.
 *
 * With several replicas the stream URL names the replica that answered ExecuteCommand, which holds the agent's
 * session only by chance: when it does not, the agent is reached through the replica that does (exec-relay.ts).
 */
export class ExecGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly sessions = new Map<string, Waiting>();
  private readonly openTimeoutMs: number;
  private unsubscribe?: () => void;

  constructor(private readonly o: ExecGatewayOptions) {
    this.openTimeoutMs = o.openTimeoutMs ?? 15_000;
  }

  start(): void {
    const stopped = (t: TaskRecord) => {
      if (t.task.lastStatus !== 'STOPPED' && t.task.desiredStatus !== 'STOPPED') return;
      for (const s of this.sessions.values()) if (s.cluster === t.cluster && s.taskId === t.id) s.side.fail(`the task stopped (${t.task.stoppedReason ?? 'no reason given'}): the session is closed`);
    };
    this.unsubscribe = this.o.env.cache.tasks.subscribe({ updated: (_k, _old, t) => stopped(t), deleted: (_k, t) => stopped({ ...t, task: { ...t.task, lastStatus: 'STOPPED' } }) });
  }

  stop(): void {
    this.unsubscribe?.();
    for (const s of this.sessions.values()) s.side.fail('berth is stopping');
    this.wss.close();
  }

  /** Sessions open now (client and agent piped, or the agent awaited). */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** Takes the upgrade when its path is one of ECS Exec's; false otherwise (someone else's). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith(EXEC_CLIENT_PATH)) {
      const id = path.slice(EXEC_CLIENT_PATH.length);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.clientOpened(ws, id));
      return true;
    }
    if (path.startsWith(EXEC_AGENT_PATH)) {
      const id = path.slice(EXEC_AGENT_PATH.length);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.agentOpened(ws, id));
      return true;
    }
    return false;
  }

  private clientOpened(ws: WebSocket, sessionId: string): void {
    const timer = setTimeout(() => refuse(ws, 'the session was not opened in time: send {"type":"open","token":…} first'), this.openTimeoutMs);
    ws.once('message', (data, binary) => {
      clearTimeout(timer);
      const open = binary ? undefined : parseControl(data.toString());
      if (open?.type !== 'open') return refuse(ws, 'the first frame must be {"type":"open","token":…}');
      // Frames after `open` (input, even its end, may come in the same packet) are kept until the pipe takes them.
      const early: { data: Buffer; binary: boolean }[] = [];
      const hold = (d: WebSocket.RawData, b: boolean) => early.push({ data: rawBuffer(d), binary: b });
      ws.on('message', hold);
      void this.claim(sessionId, open.token)
        .then((record) => {
          ws.off('message', hold);
          this.begin(ws, record, open.tty ?? true, open.cols, open.rows).takeEarly(early);
        })
        .catch((error: unknown) => {
          ws.off('message', hold);
          if (!(error instanceof OpenRefused)) this.o.log.error({ err: error, sessionId }, 'opening an ECS Exec session failed');
          refuse(ws, error instanceof OpenRefused ? error.message : 'berth could not open the session');
        });
    });
  }

  /** The session's record, deleted as it is taken: a token opens one stream, once, before it expires. */
  private async claim(sessionId: string, token: string): Promise<ExecSessionRecord> {
    const now = this.o.env.now();
    const record = await transact(this.o.env.store, async (tx) => {
      const r = await tx.getRecord(parseExecSessionRecord, keys.execSession(sessionId));
      if (r && sameSecret(r.tokenSha256, sha256Hex(token))) tx.delete(keys.execSession(sessionId));
      return r;
    });
    if (!record || !sameSecret(record.tokenSha256, sha256Hex(token))) throw new OpenRefused('unknown session or wrong token (a session opens once: call ExecuteCommand again)');
    if (record.expiresAt <= now) throw new OpenRefused('the session expired before it was opened: call ExecuteCommand again');
    return record;
  }

  private begin(ws: WebSocket, record: ExecSessionRecord, tty: boolean, cols?: number, rows?: number): ExecPipe {
    if (ws.readyState !== WebSocket.OPEN) throw new OpenRefused('the client left');
    const task = this.o.env.cache.tasks.get(keys.task(record.cluster, record.taskId));
    if (!task || task.task.lastStatus !== 'RUNNING' || task.task.desiredStatus !== 'RUNNING' || !task.instanceId) {
      throw new OpenRefused(`the task is no longer running (${task?.task.lastStatus ?? 'gone'})`);
    }
    let dialing: WebSocket | undefined;
    let forget: (() => void) | undefined;
    const pipe = new ExecPipe({
      record,
      clusterArn: task.task.clusterArn!,
      tty,
      client: ws,
      ...(this.o.audit ? { audit: this.o.audit } : {}),
      log: this.o.log,
      now: this.o.env.now,
      onEnd: () => {
        clearTimeout(agentTimer);
        forget?.();
        // The client left while the relay was being opened: the other replica lets the agent go.
        if (dialing?.readyState === WebSocket.CONNECTING) dialing.terminate();
      },
    });
    const agentTimer = setTimeout(() => {
      if (pipe.state === 'waiting') pipe.fail('TargetNotConnectedException: the agent did not open the session in time');
    }, this.openTimeoutMs);
    const start: RelayStart = {
      sessionId: record.sessionId,
      cluster: record.cluster,
      taskId: record.taskId,
      instanceId: task.instanceId,
      taskArn: record.taskArn,
      containerName: record.containerName,
      command: record.command,
      tty,
      ...(cols !== undefined && rows !== undefined ? { cols, rows } : {}),
    };
    forget = this.summonAgent(start, pipe);
    if (forget) return pipe;
    const relay = this.o.relay;
    if (!relay) {
      pipe.fail("TargetNotConnectedException: the agent of the task's host has no session on this replica of berth; call ExecuteCommand again");
      return pipe;
    }
    // The agent's session is on another replica: the stream goes through it (its socket stands for the agent's).
    // (Kept here too, so that it ends when the task stops; no agent comes here, so its token is one nobody has.)
    forget = this.keep(record.sessionId, { side: pipe, agentToken: randomBytes(32).toString('base64url'), cluster: record.cluster, taskId: record.taskId });
    void relay.open(start).then(
      (opening) => {
        if (!opening) return pipe.fail("TargetNotConnectedException: the agent of the task's host has no session on any replica of berth; call ExecuteCommand again");
        dialing = opening.socket;
        opening.opened.then(
          (ws) => pipe.attach(ws),
          (error: Error) => pipe.fail(`TargetNotConnectedException: ${error.message}`),
        );
      },
      (error: unknown) => {
        this.o.log.error({ err: error, sessionId: record.sessionId }, 'finding the replica of an agent failed');
        pipe.fail('TargetNotConnectedException: berth could not find the replica holding the agent; call ExecuteCommand again');
      },
    );
    return pipe;
  }

  /**
   * Tells the instance's agent, whose session must be on this replica, to open the session's agent socket, which
   * `side` then takes. Undefined when the agent has no session here; otherwise what forgets the session (call it
   * when the session ends).
   */
  summonAgent(start: RelayStart, side: AgentSide): (() => void) | undefined {
    const agentToken = randomBytes(32).toString('base64url');
    const forget = this.keep(start.sessionId, { side, agentToken, cluster: start.cluster, taskId: start.taskId });
    const sent = this.o.agents.sendExecStart(start.cluster, start.instanceId, {
      messageId: randomBytes(8).toString('hex'),
      sessionId: start.sessionId,
      taskArn: start.taskArn,
      containerName: start.containerName,
      command: splitCommand(start.command),
      tty: start.tty,
      ...(start.cols !== undefined && start.rows !== undefined ? { cols: start.cols, rows: start.rows } : {}),
      token: agentToken,
    });
    if (sent) return forget;
    forget();
    return undefined;
  }

  /** Keeps the session until the returned function forgets it (if it is still this one). */
  private keep(sessionId: string, waiting: Waiting): () => void {
    this.sessions.set(sessionId, waiting);
    return () => {
      if (this.sessions.get(sessionId) === waiting) this.sessions.delete(sessionId);
    };
  }

  private agentOpened(ws: WebSocket, sessionId: string): void {
    const timer = setTimeout(() => ws.close(1008, 'no open frame'), this.openTimeoutMs);
    ws.once('message', (data, binary) => {
      clearTimeout(timer);
      const open = binary ? undefined : parseControl(data.toString());
      const waiting = this.sessions.get(sessionId);
      if (open?.type !== 'open' || !waiting || !sameSecret(waiting.agentToken, open.token)) {
        ws.close(1008, 'unknown session or wrong token');
        return;
      }
      waiting.side.attach(ws);
    });
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function refuse(ws: WebSocket, message: string): void {
  send(ws, { type: 'error', message });
  ws.close(1008, 'refused');
}
