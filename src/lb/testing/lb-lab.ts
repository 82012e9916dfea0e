/**
 * What the data plane's tests share: the haproxy binary (required: a test fails loudly without it), small
 * Node HTTP backends whose health answer can be changed, a keep-alive load generator, and desired-state
 * builders.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ATTRIBUTES, type DesiredState, type HealthCheck, type Listener, type Target, type TargetGroup, type TargetGroupAttributes } from '../desired.js';
import type { LbLog } from '../haproxy-process.js';

/** Throws (failing the test) when HAProxy is not installed. */
export function requireHaproxy(): string {
  try {
    return execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0]!;
  } catch {
    throw new Error("haproxy is not installed: these tests need Debian's haproxy 2.6 (scripts/install.sh --test installs it)");
  }
}

/** A short private directory (unix socket paths are limited to 107 bytes). */
export function labDir(): { readonly dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lb-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A logger that keeps what it is told (tests print it when they fail). */
export function memoryLog(): LbLog & { readonly lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (context: object, message: string) => void lines.push(`${level} ${message} ${JSON.stringify(context, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`);
  return { lines, info: put('info'), warn: put('warn'), error: put('error') };
}

/** A free TCP port on loopback (bound and released). */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A Node HTTP backend answering its name; `/health` answers `healthStatus` (or hangs when `hang`); `/status/<code>`
 * answers that code (a fixed answer, for tests counting response codes).
 */
export interface Backend {
  readonly name: string;
  readonly target: Target;
  healthStatus: number;
  hangHealth: boolean;
  hits: number;
  /** Health checks answered. */
  healthChecks: number;
  /** Request headers of the last non-health request. */
  lastHeaders: Record<string, string | string[] | undefined>;
  close(): Promise<void>;
}

export async function startBackend(name: string, options: { slowMs?: number } = {}): Promise<Backend> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      backend.healthChecks++;
      if (backend.hangHealth) return;
      res.writeHead(backend.healthStatus, { 'content-type': 'text/plain' }).end('health');
      return;
    }
    backend.hits++;
    backend.lastHeaders = req.headers;
    const fixed = /^\/status\/([1-5]\d\d)$/.exec(req.url ?? '');
    if (fixed) {
      res.writeHead(Number(fixed[1]), { 'content-type': 'text/plain' }).end(name);
      return;
    }
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
    if (options.slowMs) setTimeout(answer, options.slowMs);
    else answer();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const backend: Backend = {
    name,
    target: { address: '127.0.0.1', port },
    healthStatus: 200,
    hangHealth: false,
    hits: 0,
    healthChecks: 0,
    lastHeaders: {},
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return backend;
}

/** One HTTP request; resolves with status, body and headers (never rejects: a failure is status 0). */
export function get(port: number, path = '/', headers: Record<string, string> = {}, agent?: Agent): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined>; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers, ...(agent ? { agent } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', (e) => resolve({ status: 0, body, headers: {}, error: e.message }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: '', headers: {}, error: e.message }));
    req.end();
  });
}

/** Results of a load run. */
export interface LoadResult {
  readonly ok: number;
  readonly failures: readonly string[];
  readonly byBody: ReadonlyMap<string, number>;
}

/**
 * Keep-alive load on `port` from `concurrency` clients until `stop()`; each failed request (non-2xx or
 * connection error) is recorded with its reason.
 */
export function startLoad(port: number, concurrency = 8, path = '/'): { stop(): Promise<LoadResult>; readonly count: () => number } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const byBody = new Map<string, number>();
  const worker = async () => {
    while (running) {
      const r = await get(port, path, {}, agent);
      if (r.status >= 200 && r.status < 300) {
        ok++;
        byBody.set(r.body, (byBody.get(r.body) ?? 0) + 1);
      } else failures.push(r.error ?? `HTTP ${r.status} ${r.body.slice(0, 80)}`);
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    count: () => ok + failures.length,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return { ok, failures, byBody };
    },
  };
}

/** A health check fast enough for tests: every `intervalSeconds`, `/health`, 200. */
export function fastCheck(overrides: Partial<HealthCheck> = {}): HealthCheck {
  return { protocol: 'HTTP', path: '/health', port: 'traffic-port', intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200', ...overrides };
}

export function targetGroup(id: string, targets: readonly Target[], overrides: Partial<Omit<TargetGroup, 'attributes'>> & { attributes?: Partial<TargetGroupAttributes> } = {}): TargetGroup {
  const { attributes, ...rest } = overrides;
  return { id, name: id, protocol: 'HTTP', healthCheck: fastCheck(), targets, ...rest, attributes: { ...DEFAULT_ATTRIBUTES, deregistrationDelaySeconds: 5, ...attributes } };
}

/** One ALB with `listeners`, and `targetGroups`. */
export function albState(listeners: readonly Listener[], targetGroups: readonly TargetGroup[]): DesiredState {
  return { loadBalancers: [{ id: 'lb1', name: 'web', type: 'application', listeners }], targetGroups };
}

/** Resolves when `check` is true, polling every 50 ms; rejects naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
