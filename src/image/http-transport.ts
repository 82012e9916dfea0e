/**
 * HTTP(S) requests to registries and token servers over Node's own http/https, with keep-alive
 * connections per origin and the caller's extra certificate roots: what the registry client used undici
 * for. Why not undici: its package is ~110 modules (fetch, WebSocket, caches, mocks) that stayed resident
 * in every agent after its first pull, ~4 MiB of heap for `request` alone (docs/agent.md, Footprint).
 *
 * Timeouts follow undici's defaults, which the client relied on: 10 s to connect, 300 s without a byte
 * while waiting for the headers or reading the body.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Milliseconds to connect, and without a byte from the server (waiting for the headers or the body). */
export interface HttpTimeouts {
  readonly connectMs: number;
  readonly idleMs: number;
}

const UNDICI_DEFAULTS: HttpTimeouts = { connectMs: 10_000, idleMs: 300_000 };

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal | null;
}

/** An answer whose body has not been read yet: read it, or `dump()` it to free the connection. */
export interface HttpResponse {
  readonly statusCode: number;
  /** Names in lower case. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable & AsyncIterable<Buffer> & { dump(): Promise<void> };
}

/** A timeout, named as the phase it cut short. */
export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
  constructor(
    message: string,
    readonly code: 'CONNECT_TIMEOUT' | 'IDLE_TIMEOUT',
  ) {
    super(message);
  }
}

export class HttpTransport {
  private readonly http = new http.Agent({ keepAlive: true });
  private readonly https: https.Agent;
  private readonly timeouts: HttpTimeouts;

  /** `ca`: certificate roots that replace Node's bundle for https (give the bundle too to add to it). */
  constructor(options: { ca?: readonly string[]; timeouts?: HttpTimeouts } = {}) {
    this.https = new https.Agent({ keepAlive: true, ...(options.ca ? { ca: [...options.ca] } : {}) });
    this.timeouts = options.timeouts ?? UNDICI_DEFAULTS;
  }

  request(target: URL | string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const url = typeof target === 'string' ? new URL(target) : target;
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') return Promise.reject(new Error(`unsupported protocol ${url.protocol}`));
    const { connectMs, idleMs } = this.timeouts;
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = (secure ? https : http).request(url, {
        method: options.method ?? 'GET',
        headers: { ...options.headers, ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}) },
        agent: secure ? this.https : this.http,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(new HttpTimeoutError(`connecting to ${url.host} timed out`, 'CONNECT_TIMEOUT')), connectMs);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.setTimeout(idleMs, () => req.destroy(new HttpTimeoutError(`${url.host} sent nothing for ${idleMs / 1000} s`, 'IDLE_TIMEOUT')));
      req.once('error', reject);
      req.once('response', (res: IncomingMessage) => {
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Object.assign(res, { dump: () => dump(res) }) });
      });
      req.end(options.body);
    });
  }

  /** Close the kept-alive connections; requests in flight are cut. */
  async close(): Promise<void> {
    this.http.destroy();
    this.https.destroy();
  }
}

/** Read and discard the rest of a body, so that its connection can serve the next request. */
async function dump(res: IncomingMessage): Promise<void> {
  if (res.complete || res.destroyed) return;
  res.resume();
  await finished(res).catch(() => undefined);
}
