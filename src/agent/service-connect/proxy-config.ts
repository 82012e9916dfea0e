/**
 * The Service Connect proxy's HAProxy configuration and its runtime changes (pure).
 *
 * One frontend per client-alias port on the proxy's address, choosing the alias's backend by the request's
 * Host (without its port; a port with one alias takes every request). Each backend has a fixed number of
 * server slots: a task coming or going is a runtime API change of one slot (`set server … addr … port …`
 * then `state ready`; `state maint` when it goes), never a reload, so that a request being retried in the
 * running worker can be redispatched to a task that was added meanwhile. Only a change of the aliases (or
 * a backend outgrowing its slots) renders a new configuration for a seamless reload.
 *
 * Connection failures are retried (`retries 3`, `option redispatch 1`: every retry goes to another task;
 * HAProxy waits min(timeout connect, 1 s) before each), as are empty responses from a task that died after
 * accepting (`retry-on conn-failure empty-response`); health is the control plane's (RUNNING, not
 * UNHEALTHY), so no checks run here.
 */
import type { Backend, ProxyEndpoint, ProxyView } from './proxy-view.js';

export interface ProxyRenderOptions {
  /** Where the frontends listen (the Service Connect address on the host). */
  readonly bindAddress: string;
  readonly adminSocket: string;
  readonly serverStateFile: string;
}

/** Server slots per backend: at least this many, else the next power of two above twice the tasks. */
export const MIN_SLOTS = 16;

/** A free slot's placeholder (HAProxy needs an address and a port to change later). */
const FREE = '127.0.0.1:1';

/** ECS Service Connect's default per-request timeout. */
const DEFAULT_REQUEST_TIMEOUT_S = 15;

/** Which task each slot of each backend holds (undefined: free). */
export type Slots = ReadonlyMap<string, readonly (Backend | undefined)[]>;

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** The HAProxy backend of an alias. */
export const backendName = (e: Pick<ProxyEndpoint, 'dnsName' | 'port'>) => `sc_${safe(e.dnsName)}_${e.port}`;

const sameBackend = (a: Backend | undefined, b: Backend) => a !== undefined && a.address === b.address && a.port === b.port;

export function slotCount(tasks: number): number {
  let n = MIN_SLOTS;
  while (n < tasks * 2) n *= 2;
  return n;
}

/** Fresh slots for a view: each backend's tasks in its first slots. */
export function initialSlots(view: ProxyView): Map<string, (Backend | undefined)[]> {
  const out = new Map<string, (Backend | undefined)[]>();
  for (const e of view.endpoints) {
    const slots: (Backend | undefined)[] = Array.from({ length: slotCount(e.backends.length) }, (_, i) => e.backends[i]);
    out.set(backendName(e), slots);
  }
  return out;
}

/** The frontends' shape (ports and aliases): when it changes, the configuration is rendered again. */
export function structureOf(view: ProxyView): string {
  return JSON.stringify(view.endpoints.map((e) => [e.dnsName, e.port, e.perRequestTimeoutSeconds ?? null, e.idleTimeoutSeconds ?? null]).sort());
}

/**
 * The runtime commands that take `slots` to the view's tasks, and the slots after them; undefined when a
 * backend is new or has too few slots (render and reload instead).
 */
export function planSlots(slots: Slots, view: ProxyView): { commands: string[]; slots: Map<string, (Backend | undefined)[]> } | undefined {
  const commands: string[] = [];
  const next = new Map<string, (Backend | undefined)[]>();
  for (const e of view.endpoints) {
    const name = backendName(e);
    const current = slots.get(name);
    if (!current || e.backends.length > current.length) return undefined;
    const row = [...current];
    row.forEach((held, i) => {
      if (held && !e.backends.some((b) => sameBackend(held, b))) {
        // Requests already sent finish; no new one goes there.
        commands.push(`set server ${name}/s${i + 1} state maint`);
        row[i] = undefined;
      }
    });
    for (const b of e.backends) {
      if (row.some((held) => sameBackend(held, b))) continue;
      const i = row.findIndex((held) => held === undefined);
      row[i] = b;
      commands.push(`set server ${name}/s${i + 1} addr ${b.address} port ${b.port}`, `set server ${name}/s${i + 1} state ready`);
    }
    next.set(name, row);
  }
  return { commands, slots: next };
}

const seconds = (s: number | undefined, fallback: number) => `${s === undefined ? fallback : s === 0 ? 86_400 : s}s`;

/** The whole configuration for `view` with its tasks in `slots`. */
export function renderProxyConfig(view: ProxyView, slots: Slots, options: ProxyRenderOptions): string {
  const out = [
    'global',
    '  master-worker',
    `  stats socket ${options.adminSocket} level admin expose-fd listeners`,
    `  server-state-file ${options.serverStateFile}`,
    '  hard-stop-after 1m',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    // ECS's default idle timeout for HTTP: 5 minutes.
    '  timeout client 300s',
    '  timeout http-keep-alive 300s',
    '  timeout http-request 60s',
    `  timeout server ${DEFAULT_REQUEST_TIMEOUT_S}s`,
    '  option http-keep-alive',
    '  option idle-close-on-response',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
    '',
  ];
  const byPort = new Map<number, ProxyEndpoint[]>();
  for (const e of view.endpoints) byPort.set(e.port, [...(byPort.get(e.port) ?? []), e]);
  for (const [port, endpoints] of [...byPort].sort((a, b) => a[0] - b[0])) {
    out.push(`frontend sc_port_${port}`, `  bind ${options.bindAddress}:${port}`);
    for (const e of endpoints) out.push(`  use_backend ${backendName(e)} if { req.hdr(host),field(1,:) -i ${e.dnsName} }`);
    if (endpoints.length === 1) out.push(`  default_backend ${backendName(endpoints[0]!)}`);
    out.push('');
  }
  for (const e of view.endpoints) {
    const name = backendName(e);
    out.push(`backend ${name}`, '  balance roundrobin', `  timeout server ${seconds(e.perRequestTimeoutSeconds, DEFAULT_REQUEST_TIMEOUT_S)}`);
    const row = slots.get(name) ?? [];
    row.forEach((b, i) => out.push(b ? `  server s${i + 1} ${b.address}:${b.port}` : `  server s${i + 1} ${FREE} disabled`));
    out.push('');
  }
  return out.join('\n');
}
