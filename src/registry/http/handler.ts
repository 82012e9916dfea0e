import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryRoute } from './paths.js';

/** What each handler receives. */
export interface RegistryCall<R extends RegistryRoute = RegistryRoute> {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly route: R;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The request body as a stream, when it has one. */
  readonly body: AsyncIterable<Buffer> | undefined;
}

export type Handler<R extends RegistryRoute = RegistryRoute> = (call: RegistryCall<R>) => Promise<FastifyReply>;
export type Methods<R extends RegistryRoute> = Partial<Record<string, Handler<R>>>;
export type HandlerTable = { readonly [K in RegistryRoute['kind']]?: Methods<Extract<RegistryRoute, { kind: K }>> };
