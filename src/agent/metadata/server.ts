/**
 * The task metadata endpoint's HTTP listener (node:http): GET and HEAD only, JSON answers, a rate limit
 * per requesting address, and request logs that never carry a token in full. Everything it answers comes
 * from {@link MetadataHandler}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { MetadataAddress } from '../config.js';
import { MetadataListenError, MetadataRequestError } from './errors.js';
import type { MetadataHandler } from './handler.js';
import { normaliseAddress, redactToken } from './lookup.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { protectionToken } from './task-protection.js';

/** The largest request body read (the protection endpoint's PUT is a few dozen bytes). */
const MAX_BODY_BYTES = 16 * 1024;

/** A request's body as text, or undefined when it is larger than {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface MetadataServerOptions {
  readonly address: MetadataAddress;
  readonly handler: MetadataHandler;
  readonly log: Logger;
  readonly rateLimit?: RateLimitOptions;
}

export interface RunningMetadataServer {
  /** The base URL containers are given (`http://169.254.170.2`), with the port unless it is 80. */
  readonly url: string;
  readonly address: MetadataAddress;
  close(): Promise<void>;
}

/** `/v4/0123abcd…/task` → `/v4/0123…/task`: what the logs show of a path. */
export function redactPath(url: string): string {
  const path = url.split('?')[0]!;
  if (path.startsWith('/v2/credentials/')) return `/v2/credentials/${redactToken(path.slice('/v2/credentials/'.length))}`;
  return path.replace(/^\/(v\d+|api)\/([^/]+)/, (_m, version: string, token: string) => `/${version}/${redactToken(token)}`);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Start listening; a port that is taken or an address that is not the host's fails with a clear message. */
export async function startMetadataServer(options: MetadataServerOptions): Promise<RunningMetadataServer> {
  const { handler, log } = options;
  const limiter = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const server = createServer((req, res) => void respond(req, res));
  // Requests are tiny and answers immediate; a client that dawdles does not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const remote = normaliseAddress(req.socket.remoteAddress);
    let status = 500;
    try {
      const protection = protectionToken(req.url ?? '/') !== undefined;
      if (protection && (req.method === 'GET' || req.method === 'PUT')) {
        if (!limiter.take(remote)) {
          status = 429;
          send(res, status, 'Too Many Requests');
        } else {
          const body = req.method === 'PUT' ? await readBody(req) : '';
          if (body === undefined) {
            status = 413;
            send(res, status, 'Request Entity Too Large');
          } else {
            const answer = await handler.handleProtection({ url: req.url ?? '/', remoteAddress: remote, method: req.method, body });
            status = answer?.status ?? 404;
            send(res, status, answer?.body ?? 'Not Found');
          }
        }
      } else if (protection) {
        res.setHeader('allow', 'GET, PUT');
        status = 405;
        send(res, status, 'Method Not Allowed');
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        status = 405;
        send(res, status, 'Method Not Allowed');
      } else if (!limiter.take(remote)) {
        status = 429;
        send(res, status, 'Too Many Requests');
      } else {
        const answer = await handler.handle({ url: req.url ?? '/', remoteAddress: remote });
        status = answer.status;
        send(res, status, answer.body);
      }
    } catch (error) {
      if (error instanceof MetadataRequestError) {
        status = error.status;
        send(res, status, error.message);
      } else {
        log.error({ err: error, path: redactPath(req.url ?? '/') }, 'task metadata request failed');
        status = 500;
        if (!res.headersSent) send(res, status, 'Internal Server Error');
        else res.destroy();
      }
    } finally {
      log.debug({ method: req.method, path: redactPath(req.url ?? '/'), remote, status, ms: Math.round(performance.now() - started) }, 'task metadata request');
    }
  }

  const { host, port } = options.address;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, host, port));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'task metadata endpoint error'));
  const bound = (server.address() as AddressInfo).port;
  log.info({ address: `${host}:${bound}` }, 'task metadata endpoint listening');
  return {
    url: bound === 80 ? `http://${host}` : `http://${host}:${bound}`,
    address: { host, port: bound },
    close: () => closeServer(server),
  };
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): MetadataListenError {
  const where = `${host}:${port}`;
  const why =
    error.code === 'EADDRINUSE'
      ? `${where} is already in use: is another agent running in this network namespace? Give each its own port with BERTH_METADATA_ADDRESS, or 'off'`
      : error.code === 'EADDRNOTAVAIL'
        ? `${host} is not an address of this host`
        : error.code === 'EACCES'
          ? `no permission to listen on ${where} (ports below 1024 need root or CAP_NET_BIND_SERVICE)`
          : error.message;
  return new MetadataListenError(`the task metadata endpoint cannot listen: ${why}`, error.code, { cause: error });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
