import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sourceIpOf, type Authorizer, type Refusal } from '../../api/authz/authorizer.js';
import type { ArnScope } from '../../model/arn.js';
import { RegistryError } from '../../model/registry/errors.js';
import type { Registry } from '../registry.js';
import { blobHandlers } from './blob-handlers.js';
import { API_VERSION, API_VERSION_HEADER, sendRegistryError } from './errors.js';
import { registryActionOf, registryDeclaration } from './iam-actions.js';
import { manifestHandlers } from './manifest-handlers.js';
import type { HandlerTable, Methods } from './handler.js';
import { parseRegistryPath, type RegistryRoute } from './paths.js';

export interface RegistryRoutesOptions {
  readonly registry: Registry;
  /** The realm named in WWW-Authenticate challenges. */
  readonly realm?: string;
  /**
   * Authorizes each request as the principal its token was issued to (ecr:BatchGetImage for a manifest pull,
   * ecr:PutImage for a push, …; see iam-actions.ts), in this region and account. Without it a valid token is enough.
   */
  readonly authorization?: { readonly authorizer: Authorizer; readonly scope: ArnScope };
}

/** A refusal in OCI terms: 403 DENIED with IAM's message. */
const denied: Refusal = (message) => new RegistryError('DENIED', message);

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The OCI Distribution API under `/v2/`, in its own encapsulated scope: request bodies are left as
 * streams (blobs can be gigabytes; digests are computed as the bytes arrive), every request must carry
 * an ECR login token (HTTP Basic `AWS:<password>` or Bearer), and errors use the OCI error body.
 */
export async function registryRoutes(app: FastifyInstance, options: RegistryRoutesOptions): Promise<void> {
  const { registry, authorization } = options;
  const realm = options.realm ?? 'berth';
  const table: HandlerTable = { ...blobHandlers(registry), ...manifestHandlers(registry) };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.setErrorHandler((error, request, reply) => sendRegistryError(request, reply, translateFastifyError(error), realm));

    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header(API_VERSION_HEADER, API_VERSION);
      try {
        const claims = registry.tokens.verifyHeader(request.headers.authorization);
        const route = parseRegistryPath(request.raw.url ?? '/');
        if (!route) throw new RegistryError('UNSUPPORTED', `no registry endpoint at ${request.method} ${request.url}`);
        if (route.kind === 'base') return await reply.type('application/json').send({});
        const performed = authorization ? registryActionOf(request.method, route) : undefined;
        if (authorization && performed) {
          const pending = authorization.authorizer.authorize(
            {
              principal: claims.caller,
              declaration: registryDeclaration(performed.action),
              input: performed,
              sourceIp: sourceIpOf(request.raw.socket.remoteAddress),
              secureTransport: (request.raw.socket as { encrypted?: boolean }).encrypted === true,
            },
            denied,
          );
          if (pending) await pending;
        }
        const handler = (table[route.kind] as Methods<RegistryRoute> | undefined)?.[request.method];
        if (!handler) throw new RegistryError('UNSUPPORTED', `${request.method} is not supported on ${route.kind} endpoints`);
        const body = request.body as AsyncIterable<Buffer> | undefined;
        return await handler({ request, reply, route, query: request.query as Record<string, string | undefined>, body });
      } catch (error) {
        return sendRegistryError(request, reply, error, realm);
      }
    };
    scope.route({ method: [...METHODS], url: '/v2', handler: handle });
    scope.route({ method: [...METHODS], url: '/v2/*', handler: handle });
  });
}

/** Fastify's own refusals (malformed requests) in OCI terms. */
function translateFastifyError(error: unknown): unknown {
  const e = error as { statusCode?: number; message?: string };
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new RegistryError('UNSUPPORTED', e.message ?? 'bad request');
  }
  return error;
}
