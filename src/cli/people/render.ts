/**
 * What the commands for people print: aligned tables, short ages, status colours — colours only on a terminal and
 * never with NO_COLOR (https://no-color.org: present and not empty) or TERM=dumb. Pure.
 */

export type OutputFormat = 'table' | 'json';
export const OUTPUT_FORMATS = ['table', 'json'] as const;

/** Whether to colour what goes to `stream`. */
export function wantColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const SGR = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;
export type Style = keyof typeof SGR;

export interface Paint {
  (style: Style, text: string): string;
}

export const paint = (colour: boolean): Paint => (style, text) => (colour && text !== '' ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text);

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '').length;

/** Columns padded to their widest cell, two spaces apart, the header in bold; no trailing spaces. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], p: Paint): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c))))
      .join('  ')
      .trimEnd();
  return [p('bold', line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** `5s`, `3m`, `2h`, `4d`: how long ago, as `docker ps` and `kubectl get` say it. */
export function age(fromMs: number | undefined, nowMs: number): string {
  if (fromMs === undefined) return '-';
  const s = Math.max(0, Math.floor((nowMs - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A status in its colour: running green, on its way yellow, stopped dim, failed red. */
export function status(text: string | undefined, p: Paint): string {
  if (text === undefined || text === '') return '-';
  if (/^(RUNNING|ACTIVE|COMPLETED|HEALTHY|PRIMARY)$/.test(text)) return p('green', text);
  if (/^(PROVISIONING|PENDING|ACTIVATING|IN_PROGRESS|DRAINING|DEACTIVATING|STOPPING|DEPROVISIONING|UNKNOWN)$/.test(text)) return p('yellow', text);
  if (/^(FAILED|UNHEALTHY)$/.test(text)) return p('red', text);
  return p('dim', text);
}

/** The last part of an ARN (`…/task/cluster/abc` → `abc`); what people type. */
export const shortArn = (arn: string | undefined) => (arn === undefined ? '-' : arn.slice(arn.lastIndexOf('/') + 1));

/** `family:revision` of a task definition ARN. */
export const revisionOf = (arn: string | undefined) => (arn === undefined ? '-' : arn.slice(arn.lastIndexOf('/') + 1));

/** JSON for `--output json`: dates as ISO strings, two-space indent. */
export const json = (value: unknown) => `${JSON.stringify(value, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v), 2)}\n`;
