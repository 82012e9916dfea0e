import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ServiceError } from '../model/errors.js';
import type { SigV4Verifier } from './auth/sigv4.js';
import type { Authorizer } from './authz/authorizer.js';
import { answerClientError } from './client-errors.js';
import { toErrorBody } from './errors.js';
import { jsonRpcHandler, type JsonService } from './protocol/json-rpc.js';
import { isQueuePath } from '../queues/names.js';
import { isSqsRequest } from '../queues/forward.js';
import { isQueryRequest, queryRpcHandler, type QueryService } from './protocol/query-rpc.js';
import { isRestJsonRequest, restJsonHandler } from './protocol/rest-json.js';
import { isRpcV2CborRequest, rpcV2CborHandler } from './protocol/rpcv2-cbor.js';
import { requestLabeler, type ObserveRequest } from './request-metrics.js';

export interface HttpServerOptions {
  readonly logger: FastifyBaseLogger;
  readonly verifier: SigV4Verifier;
  /** The authorization step of every JSON API (the registry routes take the same one). */
  readonly authorizer?: Authorizer;
  readonly services: readonly JsonService[];
  /** Query-protocol APIs (IAM, STS): form-encoded `POST /`, chosen by the credential scope's service. */
  readonly queryServices?: readonly QueryService[];
  /** JSON services also served in Smithy RPC v2 CBOR (`POST /service/<target prefix>/operation/<action>`): CloudWatch. */
  readonly cborServices?: readonly JsonService[];
  /** REST-JSON APIs (EventBridge Scheduler): chosen by the credential scope's service, then by method and path. */
  readonly restServices?: readonly JsonService[];
  /** Largest accepted request body for the JSON APIs. */
  readonly bodyLimit?: number;
  readonly checkResponses?: boolean;
  /** What `GET /healthz` reports; without it, `{"status":"ok"}`. */
  readonly health?: () => Promise<Health>;
  /**
   * Where SQS requests go first (replicas: passed on to the one holding the queues, queues/forward.ts); it serves
   * one here through `serveHere`, the protocol handler it would otherwise have reached.
   */
  readonly sqsRoute?: {
    handle(req: IncomingMessage, res: ServerResponse, serveHere: (req: IncomingMessage, res: ServerResponse) => void): void;
  };
  /** Told of every answered request, whatever route it took (operators' metrics, `--metrics-listen`). */
  readonly observeRequest?: ObserveRequest;
}

/** A replica's health: `ok` decides the status (200, else 503); the rest is the body. */
export interface Health {
  readonly ok: boolean;
  readonly role: 'leader' | 'follower';
  readonly store: 'ok' | 'unavailable';
  readonly replica: string;
}

/** Keep-alive connections from SDK clients idle this long before the server closes them (Fastify's default). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * The one listener every berth API shares. JSON-protocol services are dispatched at `POST /` by a plain
 * Node handler (json-rpc.ts); everything else (the OCI registry under `/v2/`, `/healthz`, unknown routes)
 * goes through Fastify on the same server.
 */
export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const jsonRpc = jsonRpcHandler({
    services: options.services,
    verifier: options.verifier,
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    logger: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    ...(options.checkResponses !== undefined ? { checkResponses: options.checkResponses } : {}),
  });
  const queryServices = options.queryServices ?? [];
  const query =
    queryServices.length === 0
      ? undefined
      : queryRpcHandler({
          services: queryServices,
          verifier: options.verifier,
          ...(options.authorizer ? { authorizer: options.authorizer } : {}),
          logger: options.logger,
          bodyLimit: options.bodyLimit ?? 1024 * 1024,
          ...(options.checkResponses !== undefined ? { checkResponses: options.checkResponses } : {}),
        });
  const cborServices = options.cborServices ?? [];
  const cbor =
    cborServices.length === 0
      ? undefined
      : rpcV2CborHandler({
          services: cborServices,
          verifier: options.verifier,
          ...(options.authorizer ? { authorizer: options.authorizer } : {}),
          logger: options.logger,
          bodyLimit: options.bodyLimit ?? 1024 * 1024,
          ...(options.checkResponses !== undefined ? { checkResponses: options.checkResponses } : {}),
        });
  const restServices = options.restServices ?? [];
  const restNames = new Set(restServices.flatMap((s) => s.signingNames));
  const rest =
    restServices.length === 0
      ? undefined
      : restJsonHandler({
          services: restServices,
          verifier: options.verifier,
          ...(options.authorizer ? { authorizer: options.authorizer } : {}),
          logger: options.logger,
          bodyLimit: options.bodyLimit ?? 1024 * 1024,
          ...(options.checkResponses !== undefined ? { checkResponses: options.checkResponses } : {}),
        });
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => randomUUID(),
    // One debug line per request (below) instead of Fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    // Keep-alive connections from SDK clients are long-lived; don't let a close wait for them forever.
    forceCloseConnections: true,
    // Requests Node's parser refuses (headers over its 16 KiB limit, broken HTTP) answer in the AWS error shape too.
    clientErrorHandler: answerClientError,
    serverFactory: (fastifyHandler) => {
      const observe = options.observeRequest;
      const labelOf = observe ? requestLabeler(options.services, cborServices) : undefined;
      const server = createServer((req, res) => {
        // RFC 9112 3.2.2: a server must accept a request target in absolute form (what clients send through a proxy)
        // as well as the usual origin form. The AWS CLI reaches DiscoverInstances this way (docs/architecture.md).
        if (req.url !== undefined && req.url.charCodeAt(0) !== SLASH) req.url = originForm(req.url);
        // The one place every request passes: timed from arrival until its answer is handed to the socket (or the
        // connection closes without one); labelled then, when the Query handler has tagged its Action.
        if (observe) {
          const started = performance.now();
          res.once('close', () => observe(labelOf!(req), res.statusCode, (performance.now() - started) / 1000));
        }
        // SQS clients may post to a queue's URL (`/<account>/<queue>`) instead of `/`.
        if (req.method === 'POST' && (req.url === '/' || req.url?.startsWith('/?') || (req.url !== undefined && isQueuePath(req.url)))) {
          const serve = query && isQueryRequest(req) ? query : jsonRpc;
          if (options.sqsRoute && isSqsRequest(req)) options.sqsRoute.handle(req, res, serve);
          else serve(req, res);
        } else if (rest && isRestJsonRequest(req, restNames)) rest(req, res);
        else if (cbor && isRpcV2CborRequest(req)) cbor(req, res);
        else fastifyHandler(req, res);
      });
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
  });

  // Callback hooks, not async ones: two promises less per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-amzn-RequestId', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Skip building the line when it would be dropped (the default level is info).
    if (request.log.level === 'debug' || request.log.level === 'trace') {
      request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    }
    done();
  });

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    if (error.statusCode === 413) {
      return sendError(request, reply, new ServiceError('RequestEntityTooLargeException', 'Request body is too large.'));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(request, reply, new ServiceError('SerializationException', error.message));
    }
    return sendError(request, reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new ServiceError('UnknownOperationException', `No route for ${request.method} ${request.url}.`), 404),
  );

  // Unsigned, for load balancers, operators and tests finding the leader: 503 when the store does not answer.
  const health = options.health;
  if (health) {
    app.get('/healthz', async (_request, reply) => {
      const { ok, ...body } = await health();
      return reply.code(ok ? 200 : 503).send(body);
    });
  } else {
    app.get('/healthz', async () => ({ status: 'ok' }));
  }
  return app;
}

/** Send `error` in the AWS JSON error shape from a Fastify route; log server faults with their cause. */
function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown, statusOverride?: number): FastifyReply {
  const { type, message, ...rest } = toErrorBody(error);
  const status = statusOverride ?? rest.status;
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.debug({ type, message }, 'request refused');
  return reply
    .code(status)
    .header('content-type', 'application/x-amz-json-1.1')
    .header('x-amzn-ErrorType', `${type}:`)
    .send(Buffer.from(JSON.stringify({ __type: type, message })));
}

const SLASH = 0x2f;

/**
 * `http://host:port/path?query` → `/path?query` (`/` for no path); anything else (`*`, garbage) as it is, for the
 * router to refuse. Not WHATWG's URL: it refuses hosts such as `data-127.0.0.1` (a last label of digits must be IPv4).
 */
export function originForm(target: string): string {
  const m = /^https?:\/\/[^/?#]*/i.exec(target);
  if (!m) return target;
  const rest = target.slice(m[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
