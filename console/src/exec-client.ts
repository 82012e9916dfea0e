import { parseControl, parseOutputFrame, type ExecControl } from '../../src/model/exec-stream.js';

/*
 * The browser's side of an ECS Exec session's stream (model/exec-stream.ts has the protocol). A browser's WebSocket
 * cannot carry headers, and the stream needs none: the session's one-time token goes in the first frame, `open`,
 * as `berth exec` sends it. The state of a session:
 *
 *   connecting ──socket open: send open{token, tty, size}──▶ open ──exit/error frame, then close──▶ ended
 *        │                                                    │
 *        └──────────── socket error or close ─────────────────┴──▶ ended (without an exit code)
 *
 * Output and the end are handed to the caller (the terminal); input and resizes go out only while open.
 */

/** How a session ended: the command's exit code, or why there is none. */
export type ExecEnd = { readonly exitCode: number } | { readonly error: string };

export interface ExecHandlers {
  output(data: Uint8Array): void;
  ended(end: ExecEnd): void;
}

/** The part of a browser WebSocket the client uses (a fake one in unit tests). */
export interface ExecSocket {
  binaryType: BinaryType;
  readonly readyState: number;
  send(data: string | ArrayBufferLike | Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
}

const OPEN = 1;

/** The stream URL as this page may open it: a page served over https must use wss (a browser refuses ws from it). */
export function streamUrlFor(streamUrl: string, pageProtocol: string): string {
  return pageProtocol === 'https:' && streamUrl.startsWith('ws:') ? `wss:${streamUrl.slice('ws:'.length)}` : streamUrl;
}

export class ExecClient {
  private readonly socket: ExecSocket;
  private last: ExecControl | undefined;
  private reason: string | undefined;
  private done = false;

  constructor(
    url: string,
    token: string,
    size: { cols: number; rows: number },
    private readonly handlers: ExecHandlers,
    openSocket: (url: string) => ExecSocket = (u) => new WebSocket(u),
  ) {
    this.socket = openSocket(url);
    this.socket.binaryType = 'arraybuffer';
    this.socket.onopen = () => this.control({ type: 'open', token, tty: true, cols: size.cols, rows: size.rows });
    this.socket.onmessage = (ev) => this.received(ev.data);
    this.socket.onerror = () => (this.reason ??= 'the stream could not be opened or broke');
    this.socket.onclose = () => this.finish();
  }

  /** Keystrokes (or pasted text), as the terminal gives them. */
  input(data: Uint8Array<ArrayBuffer>): void {
    if (this.socket.readyState === OPEN && !this.done) this.socket.send(data);
  }

  resize(cols: number, rows: number): void {
    this.control({ type: 'resize', cols, rows });
  }

  /** Close from this side (the person closed the terminal, the task stopped): the agent then kills the command. */
  close(reason: string): void {
    this.reason ??= reason;
    this.socket.close(1000, 'closed by the console');
    this.finish();
  }

  private control(message: ExecControl): void {
    if (this.socket.readyState === OPEN && !this.done) this.socket.send(JSON.stringify(message));
  }

  private received(data: unknown): void {
    if (typeof data === 'string') {
      const control = parseControl(data);
      if (control?.type === 'exit' || control?.type === 'error') this.last = control;
      return;
    }
    if (data instanceof ArrayBuffer) {
      const output = parseOutputFrame(new Uint8Array(data));
      if (output) this.handlers.output(output.data);
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    const last = this.last;
    this.handlers.ended(
      last?.type === 'exit' ? { exitCode: last.exitCode } : { error: last?.type === 'error' ? last.message : (this.reason ?? 'the session closed without an exit code') },
    );
  }
}
