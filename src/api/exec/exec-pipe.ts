import { StringDecoder } from 'node:string_decoder';
import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';
import { execAuditLine } from '../../model/exec-audit.js';
import { parseControl, parseOutputFrame, type ExecControl } from '../../model/exec-stream.js';
import type { ExecAuditDestination, ExecSessionRecord } from '../../state/records/exec-sessions.js';
import { background } from '../../process/background.js';

/**
 * One ECS Exec session on the control plane: the client's socket, then the agent's, piped together.
 *
 *   waiting ──agent opens with the token──▶ piping ──exit | error | either side closes | task stops──▶ ended
 *      └──────────── the agent does not come in time, the client leaves ───────────────────────────────▶ ended
 *
 * The client's input that arrives before the agent is kept and sent once it is there. Output is also written, a
 * second at a time, to the session's audit stream (when the cluster's executeCommandConfiguration gives one), between
 * a `start` line (who ran what) and an `end` line (the exit code, or why it ended without one).
 */
export type PipeState = 'waiting' | 'piping' | 'ended';

/** Writes audit events (epoch-ms timestamps) to a log stream of berth's CloudWatch Logs, creating the stream. */
export interface ExecAuditSink {
  write(destination: ExecAuditDestination, events: readonly { timestamp: number; message: string }[]): Promise<void>;
}

export interface ExecPipeOptions {
  readonly record: ExecSessionRecord;
  readonly clusterArn: string;
  readonly tty: boolean;
  readonly client: WebSocket;
  readonly audit?: ExecAuditSink;
  readonly log: FastifyBaseLogger;
  readonly now: () => number;
  readonly onEnd: () => void;
}

/** CloudWatch Logs takes events up to 256 KiB; lines are cut well below. */
const MAX_LINE = 64 * 1024;
const AUDIT_FLUSH_MS = 1_000;

export class ExecPipe {
  state: PipeState = 'waiting';
  private agent?: WebSocket;
  private readonly early: { data: Buffer; binary: boolean }[] = [];
  private readonly startedAt: number;
  private readonly decoder = new StringDecoder('utf8');
  private pendingText = '';
  private auditChain: Promise<void> = Promise.resolve();
  private auditTimer?: NodeJS.Timeout;
  private exitCode: number | null = null;

  constructor(private readonly o: ExecPipeOptions) {
    this.startedAt = o.now();
    o.client.on('message', (data, binary) => this.fromClient(rawBuffer(data), binary));
    o.client.on('close', () => this.end('the client closed the session'));
    o.client.on('error', (err) => o.log.warn({ err: err.message }, 'exec client socket error'));
  }

  /** The agent's socket, once it opened with the right token: piping starts. */
  attach(agent: WebSocket): void {
    if (this.state !== 'waiting') {
      agent.close(1008, 'session already ended');
      return;
    }
    this.state = 'piping';
    this.agent = agent;
    agent.on('message', (data, binary) => this.fromAgent(rawBuffer(data), binary));
    agent.on('close', () => this.end("the agent's connection closed"));
    agent.on('error', (err) => this.o.log.warn({ err: err.message }, 'exec agent socket error'));
    const r = this.o.record;
    this.o.log.info({ sessionId: r.sessionId, principal: r.principalArn, task: r.taskArn, container: r.containerName, command: r.command, tty: this.o.tty }, 'ECS Exec session started');
    this.auditWrite([
      execAuditLine('start', {
        sessionId: r.sessionId,
        principalArn: r.principalArn,
        clusterArn: this.o.clusterArn,
        taskArn: r.taskArn,
        containerName: r.containerName,
        command: r.command,
        tty: this.o.tty,
      }),
    ]);
    if (r.audit) this.auditTimer = setInterval(() => this.flushOutput(false), AUDIT_FLUSH_MS);
    for (const f of this.early.splice(0)) agent.send(f.data, { binary: f.binary });
  }

  /** The client's frames that came before the pipe (after its `open`), in order. */
  takeEarly(frames: readonly { data: Buffer; binary: boolean }[]): void {
    for (const f of frames) this.fromClient(f.data, f.binary);
  }

  /** End the session with a message to the client (the task stopped, the agent never came, berth is stopping). */
  fail(message: string): void {
    if (this.state === 'ended') return;
    send(this.o.client, { type: 'error', message });
    this.end(message);
  }

  private fromClient(data: Buffer, binary: boolean): void {
    if (this.state === 'ended') return;
    if (!binary) {
      // Only what the agent takes from a client goes on: resize and eof.
      const control = parseControl(data.toString());
      if (control?.type !== 'resize' && control?.type !== 'eof') return;
    }
    if (this.agent) this.agent.send(data, { binary });
    else if (this.early.length < 1_000) this.early.push({ data, binary });
  }

  private fromAgent(data: Buffer, binary: boolean): void {
    if (this.state === 'ended') return;
    if (binary) {
      const output = parseOutputFrame(data);
      if (!output) return;
      if (this.o.record.audit) this.pendingText += this.decoder.write(output.data);
      this.o.client.send(data, { binary: true });
      return;
    }
    const control: ExecControl | undefined = parseControl(data.toString());
    if (control?.type === 'exit') {
      this.exitCode = control.exitCode;
      send(this.o.client, control);
      this.end(`the command exited with code ${control.exitCode}`);
    } else if (control?.type === 'error') {
      send(this.o.client, control);
      this.end(control.message);
    }
  }

  private end(reason: string): void {
    if (this.state === 'ended') return;
    const wasPiping = this.state === 'piping';
    this.state = 'ended';
    clearInterval(this.auditTimer);
    this.o.client.close(1000, 'session ended');
    this.agent?.close(1000, 'session ended');
    const r = this.o.record;
    const durationMs = this.o.now() - this.startedAt;
    this.o.log.info({ sessionId: r.sessionId, principal: r.principalArn, exitCode: this.exitCode, reason, durationMs }, 'ECS Exec session ended');
    if (wasPiping) {
      this.pendingText += this.decoder.end();
      this.flushOutput(true);
      this.auditWrite([execAuditLine('end', { sessionId: r.sessionId, principalArn: r.principalArn, exitCode: this.exitCode, reason, durationMs })]);
    }
    this.o.onEnd();
  }

  /** Whole lines of output so far (all of it at the end) to the audit stream. */
  private flushOutput(all: boolean): void {
    if (!this.o.record.audit) return;
    const cut = all ? this.pendingText.length : this.pendingText.lastIndexOf('\n') + 1;
    if (cut <= 0) return;
    const text = this.pendingText.slice(0, cut);
    this.pendingText = this.pendingText.slice(cut);
    this.auditWrite(outputLines(text));
  }

  /** In order, one write at a time; a failed write is logged (the session goes on). */
  private auditWrite(messages: readonly string[]): void {
    const destination = this.o.record.audit;
    if (!destination || !this.o.audit || messages.length === 0) return;
    const sink = this.o.audit;
    const timestamp = this.o.now();
    const events = messages.map((message) => ({ timestamp, message }));
    this.auditChain = this.auditChain.then(() =>
      background(this.o.log, 'write the ECS Exec audit record', () => sink.write(destination, events), { sessionId: this.o.record.sessionId }),
    );
  }

  /** Written, for tests and shutdown. */
  audited(): Promise<void> {
    return this.auditChain;
  }
}

/** Terminal output as log lines: split at newlines, carriage returns dropped at their ends, long lines cut. */
export function outputLines(text: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r+$/, '');
    for (let i = 0; i < line.length; i += MAX_LINE) lines.push(line.slice(i, i + MAX_LINE));
  }
  return lines.filter((l) => l.length > 0);
}

export function rawBuffer(data: WebSocket.RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

export function send(ws: WebSocket, control: ExecControl): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(control));
}
