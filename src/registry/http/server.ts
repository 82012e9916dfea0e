import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from '../registry.js';
import { registryRoutes, type RegistryRoutesOptions } from './routes.js';

/**
 * A listener of the registry's own (`berth server --registry-listen`), for when image traffic should not
 * share the API's address: only `/v2/` and `/healthz`.
 */
export async function buildRegistryServer(options: {
  logger: FastifyBaseLogger;
  registry: Registry;
  authorization?: RegistryRoutesOptions['authorization'];
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => randomUUID(),
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  await registryRoutes(app, { registry: options.registry, ...(options.authorization ? { authorization: options.authorization } : {}) });
  return app;
}
