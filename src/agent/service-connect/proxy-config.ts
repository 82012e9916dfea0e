/**
 * The Service Connect proxy's HAProxy configuration and its runtime changes (pure).
 *
 * One frontend per client-alias port on the proxy's address. HTTP aliases (`appProtocol` http; http2 and grpc
 * as HTTP/2) are proxied in `mode http`, the alias's backend chosen by the request's Host (without its port; a
 * port with one alias takes every request); the others in `mode tcp`, one alias per port (proxy-view.ts). Each
 * backend has a fixed number of
 * server slots: a task coming or going is a runtime API change of one slot (`set server … addr … port …`
 * then `state ready`; `state maint` when it goes), never a reload, so that a request being retried in the
 * running worker can be redispatched to a task that was added meanwhile. Only a change of the aliases (or
 * a backend outgrowing its slots) renders a new configuration for a seamless reload.
 *
 * Connection failures are retried in both modes (`retries 3`, `option redispatch 1`: every retry goes to another
 * task; HAProxy waits min(timeout connect, 1 s) before each), and in HTTP mode empty responses from a task that
 * died after accepting too (`retry-on conn-failure empty-response`); health is the control plane's (RUNNING, not
 * UNHEALTHY), so no checks run here. Timeouts are ECS's: idle 5 minutes for HTTP and 1 hour for TCP, per request
 * 15 s (HTTP only), each the alias's `timeout` when the service sets it (0: none).
 *
 * Ingress listeners (ingress.ts: `ingressPortOverride` of this host's awsvpc tasks) are `listen` sections bound
 * inside the task's network namespace, one server (the task's container port) each.
 */
import type { IngressListener } from './ingress.js';
import type { Backend, ProxyEndpoint, ProxyMode, ProxyView } from './proxy-view.js';

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

/** ECS Service Connect's default per-request timeout (HTTP). */
const DEFAULT_REQUEST_TIMEOUT_S = 15;
/** ECS Service Connect's default idle timeouts: HTTP (and HTTP/2, gRPC) 5 minutes, TCP 1 hour. */
const DEFAULT_IDLE_TIMEOUT_S: Record<ProxyMode, number> = { http: 300, h2: 300, tcp: 3_600 };

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

/** The frontends' shape (ports, aliases, modes, timeouts, ingress listeners): when it changes, the configuration is rendered again. */
export function structureOf(view: ProxyView, ingress: readonly IngressListener[] = []): string {
  return JSON.stringify([
    view.endpoints.map((e) => [e.dnsName, e.port, e.mode, e.perRequestTimeoutSeconds ?? null, e.idleTimeoutSeconds ?? null]).sort(),
    ingress.map((l) => [l.netns, l.address, l.port, l.mode, l.target.port]).sort(),
  ]);
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

type Section = 'frontend' | 'backend' | 'listen';

/** A section's mode and, for HTTP, its keep-alive (client side) and retry (server side) lines. */
function modeLines(mode: ProxyMode, section: Section): string[] {
  if (mode === 'tcp') return ['  mode tcp'];
  const out = ['  mode http', '  option http-keep-alive'];
  if (section !== 'backend') out.push('  option idle-close-on-response');
  if (section !== 'frontend') out.push('  retry-on conn-failure empty-response');
  return out;
}
const h2 = (mode: ProxyMode) => (mode === 'h2' ? ' proto h2' : '');

/** The whole configuration for `view` with its tasks in `slots`, and the ingress listeners. */
export function renderProxyConfig(view: ProxyView, slots: Slots, options: ProxyRenderOptions, ingress: readonly IngressListener[] = []): string {
  const out = [
    'global',
    '  master-worker',
    `  stats socket ${options.adminSocket} level admin expose-fd listeners`,
    `  server-state-file ${options.serverStateFile}`,
    '  hard-stop-after 1m',
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 300s',
    `  timeout server ${DEFAULT_REQUEST_TIMEOUT_S}s`,
    '  timeout http-request 60s',
    '  retries 3',
    '  option redispatch 1',
    '',
  ];
  const byPort = new Map<number, ProxyEndpoint[]>();
  for (const e of view.endpoints) byPort.set(e.port, [...(byPort.get(e.port) ?? []), e]);
  for (const [port, endpoints] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const mode = endpoints[0]!.mode;
    // A frontend's idle timeout is its port's: the longest of its aliases'.
    const idle = Math.max(...endpoints.map((e) => (e.idleTimeoutSeconds === 0 ? 86_400 : (e.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_S[mode]))));
    out.push(`frontend sc_port_${port}`, `  bind ${options.bindAddress}:${port}${h2(mode)}`, ...modeLines(mode, 'frontend'), `  timeout client ${idle}s`);
    if (mode !== 'tcp') {
      out.push(`  timeout http-keep-alive ${idle}s`);
      for (const e of endpoints) out.push(`  use_backend ${backendName(e)} if { req.hdr(host),field(1,:) -i ${e.dnsName} }`);
    }
    if (endpoints.length === 1) out.push(`  default_backend ${backendName(endpoints[0]!)}`);
    out.push('');
  }
  for (const e of view.endpoints) {
    const name = backendName(e);
    // TCP: the server side idles as long as the client side may; HTTP: the per-request timeout.
    const server = e.mode === 'tcp' ? seconds(e.idleTimeoutSeconds, DEFAULT_IDLE_TIMEOUT_S.tcp) : seconds(e.perRequestTimeoutSeconds, DEFAULT_REQUEST_TIMEOUT_S);
    out.push(`backend ${name}`, ...modeLines(e.mode, 'backend'), '  balance roundrobin', `  timeout server ${server}`);
    const row = slots.get(name) ?? [];
    row.forEach((b, i) => out.push(b ? `  server s${i + 1} ${b.address}:${b.port}${h2(e.mode)}` : `  server s${i + 1} ${FREE} disabled${h2(e.mode)}`));
    out.push('');
  }
  // The clients' proxies apply the alias's timeouts; an ingress listener never cuts a connection sooner.
  for (const l of ingress) {
    out.push(
      `listen ${ingressName(l)}`,
      `  bind ${l.address}:${l.port} namespace ${l.netns}${h2(l.mode)}`,
      ...modeLines(l.mode, 'listen'),
      '  timeout client 86400s',
      '  timeout server 86400s',
      `  server task ${l.target.address}:${l.target.port}${h2(l.mode)}`,
      '',
    );
  }
  return out.join('\n');
}

/** The HAProxy section of an ingress listener. */
export const ingressName = (l: Pick<IngressListener, 'taskArn' | 'port'>) => `sc_in_${safe(l.taskArn.split('/').at(-1)!)}_${l.port}`;
