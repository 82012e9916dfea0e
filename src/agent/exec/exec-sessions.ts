import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { ExecStartMessage } from '../../model/acs.js';
import { EXEC_AGENT_PATH, outputFrame, parseControl, type ExecControl } from '../../model/exec-stream.js';
import type { Runtime } from '../../runtime/runtime.js';
import { ExecProcess } from './exec-process.js';

export interface ExecSessionsOptions {
  readonly runtime: Runtime;
  /** The runtime id of the task's container when it is running; undefined otherwise. */
  readonly runningContainer: (taskArn: string, containerName: string) => string | undefined;
  /** The replica the agent's session is on (where ExecStartMessage came from): its base URL. */
  readonly endpoint: () => string | undefined;
  /** A directory for the sessions' pid and terminal-name files. */
  readonly dir: string;
  readonly log: Logger;
}

/** Output waits while this much is unsent on the session's socket. */
const HIGH_WATER = 4 * 1024 * 1024;

/**
 * The agent's ECS Exec sessions: for each ExecStartMessage, a socket to the control plane
 * (`EXEC_AGENT_PATH<sessionId>`, opened with the message's token) and the command in the container
 * (exec-process.ts), its input, output, resizes and exit code carried on the socket (model/exec-stream.ts).
 * Closing the socket kills the command; the command's end closes the socket. Each session is independent.
 */
export class ExecSessions {
  private readonly open = new Map<string, Entry>();

  constructor(private readonly o: ExecSessionsOptions) {}

  get count(): number {
    return this.open.size;
  }

  start(m: ExecStartMessage): void {
    const endpoint = this.o.endpoint();
    if (!endpoint || this.open.has(m.sessionId)) return;
    const url = new URL(`${EXEC_AGENT_PATH.slice(1)}${m.sessionId}`, endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const log = this.o.log.child({ sessionId: m.sessionId, task: m.taskArn, container: m.containerName });
    const ws = new WebSocket(url, { handshakeTimeout: 5_000 });
    const entry: Entry = { ws, early: [] };
    this.open.set(m.sessionId, entry);
    ws.on('open', () => {
      send(ws, { type: 'open', token: m.token });
      this.run(m, entry, log).catch((err: Error) => {
        log.warn({ err: err.message }, 'could not start the ECS Exec command');
        send(ws, { type: 'error', message: `the command could not start: ${err.message}` });
        ws.close(1000);
      });
    });
    ws.on('message', (data, binary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      // What comes while the command is being started (input, even its end) waits for it.
      if (!entry.process) entry.early.push({ data: buf, binary });
      else deliver(entry.process, buf, binary);
    });
    ws.on('error', (err) => log.warn({ err: err.message }, 'ECS Exec socket error'));
    ws.on('close', () => {
      this.open.delete(m.sessionId);
      void entry.process?.kill();
    });
  }

  /** Kill every session's command (the agent is stopping: the sessions cannot go on without it). */
  stop(): void {
    for (const { ws } of this.open.values()) ws.close(1001, 'agent stopping');
  }

  private async run(m: ExecStartMessage, entry: Entry, log: Logger): Promise<void> {
    const id = this.o.runningContainer(m.taskArn, m.containerName);
    if (!id) throw new Error(`container '${m.containerName}' of the task is not running on this host`);
    if (!this.o.runtime.execCommandLine) throw new Error('this runtime has no ECS Exec');
    if (m.command.length === 0) throw new Error('no command given');
    const stem = join(this.o.dir, `exec-${randomBytes(6).toString('hex')}`);
    const line = await this.o.runtime.execCommandLine(id, m.command, { tty: m.tty, pidFile: `${stem}.pid` });
    const ws = entry.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    log.info({ command: m.command, tty: m.tty }, 'ECS Exec command starting');
    const proc = new ExecProcess({
      ...line,
      tty: m.tty,
      ...(m.cols !== undefined && m.rows !== undefined ? { cols: m.cols, rows: m.rows } : {}),
      ttyFile: `${stem}.tty`,
      pidFile: `${stem}.pid`,
      onOutput: (channel, data) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(outputFrame(channel, data));
        if (ws.bufferedAmount > HIGH_WATER) this.holdOutput(ws, proc);
      },
      onExit: (exitCode) => {
        log.info({ exitCode }, 'ECS Exec command ended');
        send(ws, { type: 'exit', exitCode });
        ws.close(1000);
      },
    });
    entry.process = proc;
    for (const f of entry.early.splice(0)) deliver(proc, f.data, f.binary);
  }

  /** Pause the command's output until the socket has sent what it holds. */
  private holdOutput(ws: WebSocket, proc: ExecProcess): void {
    for (const s of proc.outputs) s.pause();
    const check = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > HIGH_WATER / 2) return;
      clearInterval(check);
      for (const s of proc.outputs) s.resume();
    }, 20);
  }
}

interface Entry {
  readonly ws: WebSocket;
  process?: ExecProcess;
  readonly early: { data: Buffer; binary: boolean }[];
}

/** A frame from the client to its command: input, a resize, or the end of input. */
function deliver(proc: ExecProcess, data: Buffer, binary: boolean): void {
  if (binary) return proc.write(data);
  const control = parseControl(data.toString());
  if (control?.type === 'resize') proc.resize(control.cols, control.rows);
  if (control?.type === 'eof') proc.endInput();
}

function send(ws: WebSocket, control: ExecControl): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(control));
}
