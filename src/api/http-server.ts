import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ServiceError } from '../model/errors.js';
import type { SigV4Verifier } from './auth/sigv4.js';
import { answerClientError } from './client-errors.js';
import { jsonRpcRoutes, sendError, type JsonService } from './protocol/json-rpc.js';

export interface HttpServerOptions {
  readonly logger: FastifyBaseLogger;
  readonly verifier: SigV4Verifier;
  readonly services: readonly JsonService[];
  /** Largest accepted request body for the JSON APIs. */
  readonly bodyLimit?: number;
  readonly checkResponses?: boolean;
  /** What `GET /healthz` reports; without it, `{"status":"ok"}`. */
  readonly health?: () => Promise<Health>;
}

/** A replica's health: `ok` decides the status (200, else 503); the rest is the body. */
export interface Health {
  readonly ok: boolean;
  readonly role: 'leader' | 'follower';
  readonly store: 'ok' | 'unavailable';
  readonly replica: string;
}

/**
 * The one listener every berth API shares. JSON-protocol services are dispatched at `POST /`; other
 * protocols (the OCI registry under `/v2/`) register their own routes on the returned instance.
 */
export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => randomUUID(),
    // One debug line per request (below) instead of Fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    // Keep-alive connections from SDK clients are long-lived; don't let a close wait for them forever.
    forceCloseConnections: true,
    // Requests Node's parser refuses (headers over its 16 KiB limit, broken HTTP) answer in the AWS error shape too.
    clientErrorHandler: answerClientError,
  });

  // Callback hooks, not async ones: two promises less per request on the hottest path there is.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-amzn-RequestId', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Skip building the line when it would be dropped (the default level is info).
    if (request.log.level === 'debug' || request.log.level === 'trace') {
      request.log.debug(
        { method: request.method, url: request.url, target: request.headers['x-amz-target'], status: reply.statusCode, ms: reply.elapsedTime },
        'request',
      );
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

  await jsonRpcRoutes(app, {
    services: options.services,
    verifier: options.verifier,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    ...(options.checkResponses !== undefined ? { checkResponses: options.checkResponses } : {}),
  });
  return app;
}
