/**
 * ECS Exec's stream protocol, spoken on berth's listener by the client (`berth exec`, the console's terminal) and by
 * the agent, with the control plane piping one to the other (api/exec/exec-gateway.ts):
 *
 *   client ──ws /ecs-exec/<sessionId>──▶ control plane ◀──ws /ecs-exec-agent/<sessionId>── agent ──▶ runc exec
 *
 * Frames, both ways over a WebSocket:
 * - text frames are JSON control messages (ExecControl): `open` first from each side (the client with the session's
 *   token, whether it wants a terminal and its size; the agent with the token its ExecStartMessage gave it), then
 *   `resize` and `eof` from the client, `exit` (the command's exit code) or `error` towards the client, last;
 * - binary frames are bytes: from the client, its input; towards the client, one channel byte (stdout 1, stderr 2:
 *   a terminal session only has stdout) then output.
 *
 * Pure: no I/O and no Node-only types (plain Uint8Array, no Buffer), so the agent, the control plane, the CLI and
 * the console in the browser share it.
 */

export const EXEC_CLIENT_PATH = '/ecs-exec/';
export const EXEC_AGENT_PATH = '/ecs-exec-agent/';

/** The command a session runs when none is given: a shell (`berth exec`, the console's terminal). */
export const DEFAULT_EXEC_COMMAND = '/bin/sh';

export const STDOUT = 1;
export const STDERR = 2;

export type ExecControl =
  | { readonly type: 'open'; readonly token: string; readonly tty?: boolean; readonly cols?: number; readonly rows?: number }
  | { readonly type: 'resize'; readonly cols: number; readonly rows: number }
  | { readonly type: 'eof' }
  | { readonly type: 'exit'; readonly exitCode: number }
  | { readonly type: 'error'; readonly message: string };

/** A terminal size within what a pty takes (1–65535 each). */
const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65_535;

/** A control frame's JSON, checked; undefined for anything else (ignored by the receiver). */
export function parseControl(text: string): ExecControl | undefined {
  let v: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    v = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  switch (v.type) {
    case 'open':
      if (typeof v.token !== 'string') return undefined;
      return {
        type: 'open',
        token: v.token,
        ...(typeof v.tty === 'boolean' ? { tty: v.tty } : {}),
        ...(isSize(v.cols) && isSize(v.rows) ? { cols: v.cols, rows: v.rows } : {}),
      };
    case 'resize':
      return isSize(v.cols) && isSize(v.rows) ? { type: 'resize', cols: v.cols, rows: v.rows } : undefined;
    case 'eof':
      return { type: 'eof' };
    case 'exit':
      return typeof v.exitCode === 'number' && Number.isInteger(v.exitCode) ? { type: 'exit', exitCode: v.exitCode } : undefined;
    case 'error':
      return typeof v.message === 'string' ? { type: 'error', message: v.message } : undefined;
    default:
      return undefined;
  }
}

/** Output on a channel, as the binary frame carries it. */
export function outputFrame(channel: typeof STDOUT | typeof STDERR, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(data.length + 1);
  frame[0] = channel;
  frame.set(data, 1);
  return frame;
}

/** The channel and bytes of an output frame (a view of the same kind: a Buffer's is a Buffer); undefined for an empty or unknown one. */
export function parseOutputFrame<T extends Uint8Array>(frame: T): { channel: typeof STDOUT | typeof STDERR; data: T } | undefined {
  const channel = frame[0];
  if (channel !== STDOUT && channel !== STDERR) return undefined;
  return { channel, data: frame.subarray(1) as T };
}

/**
 * ExecuteCommand's `command` as the words to run, split as a shell would split a simple command (single and double
 * quotes, backslash escapes), with no expansion: the command runs directly, as the ECS Exec agent runs it; a shell is
 * asked for by name (`sh -c '…'`). Throws on an unterminated quote.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) word += command[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote === "'" ? 'single' : 'double'} quote`);
  if (inWord) words.push(word);
  return words;
}

/** One word for `sh -c`, single-quoted so the shell takes it as it is. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
