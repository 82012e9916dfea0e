/**
 * How `berth up`, `server`, `agent` and `lb` write their logs: pino's JSON lines for programs (a pipe, a file, a
 * journal), or readable lines for a person at a terminal — `12:03:04.512 INFO  server  listening url=…`. The choice
 * is made here only: `--log-format json|text`, else text when stdout is a terminal, else JSON. The text form is
 * made from pino's own JSON line, so both carry the same fields; written synchronously, as pino's default is.
 */
import { writeSync } from 'node:fs';
import { Option } from 'commander';
import { pino, type Logger, type LoggerOptions } from 'pino';
import { wantColour } from './people/render.js';

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The `--log-format` option every long-running command takes. */
export const logFormatOption = () =>
  new Option('--log-format <format>', 'json lines, or text for people (default: text on a terminal, else json)').choices(LOG_FORMATS);

/** The format when the flag does not say. */
export const logFormatFor = (flag: LogFormat | undefined, stdout: { isTTY?: boolean }): LogFormat => flag ?? (stdout.isTTY === true ? 'text' : 'json');

/** The process's logger, writing to stdout in the format chosen. */
export function processLogger(options: LoggerOptions & { format?: LogFormat | undefined }): Logger {
  const { format: flag, ...rest } = options;
  if (logFormatFor(flag, process.stdout) === 'json') return pino(rest);
  const colour = wantColour(process.stdout, process.env);
  return pino(rest, { write: (line: string) => void writeSync(1, textLine(line, colour)) });
}

const LEVELS: Record<number, { name: string; sgr: number }> = {
  10: { name: 'TRACE', sgr: 2 },
  20: { name: 'DEBUG', sgr: 2 },
  30: { name: 'INFO', sgr: 32 },
  40: { name: 'WARN', sgr: 33 },
  50: { name: 'ERROR', sgr: 31 },
  60: { name: 'FATAL', sgr: 31 },
};
/** pino's own members, said by the layout rather than as fields. */
const OWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'part', 'err', 'v']);

/** One of pino's JSON lines as a person reads it (pure; a line that is not JSON passes as it is). */
export function textLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const paint = (sgr: number, text: string) => (colour ? `\x1b[${sgr}m${text}\x1b[0m` : text);
  const level = LEVELS[Number(entry.level)] ?? { name: String(entry.level), sgr: 0 };
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([k, v]) => !OWN.has(k) && v !== undefined)
    .map(([k, v]) => `${paint(2, `${k}=`)}${typeof v === 'string' ? quoted(v) : JSON.stringify(v)}`);
  const err = entry.err as { message?: string; stack?: string } | undefined;
  const head = [paint(2, time), paint(level.sgr, level.name.padEnd(5)), ...(typeof entry.part === 'string' ? [paint(36, entry.part)] : []), String(entry.msg ?? '')]
    .filter((s) => s !== '')
    .join(' ');
  const stack = err ? `\n    ${(err.stack ?? err.message ?? '').split('\n').join('\n    ')}` : '';
  return `${head}${fields.length ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}

const quoted = (s: string) => (/^[^\s"=]*$/.test(s) && s !== '' ? s : JSON.stringify(s));
