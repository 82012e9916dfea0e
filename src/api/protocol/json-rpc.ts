import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../../model/errors.js';
import type { Principal } from '../auth/credentials.js';
import type { SigV4Verifier } from '../auth/sigv4.js';
import { toErrorBody } from '../errors.js';
import { decodeUtf8, readBody } from './request-body.js';
import type { ServiceModel } from './service-model.js';
import { ShapeSerializer } from './shape-serializer.js';
import { ShapeValidator } from './shape-validator.js';

/** Who is calling and which request this is, handed to every operation. */
export interface CallContext {
  readonly principal: Principal;
  readonly requestId: string;
  readonly log: FastifyBaseLogger;
  /** The Host header the client used: how it reaches this server (DiscoverPollEndpoint answers with it). */
  readonly host: string;
}

export type Operation = (input: any, call: CallContext) => Promise<object>;

/**
 * One AWS JSON-protocol API served at `POST /` and selected by its X-Amz-Target prefix: ECS today, and
 * ECR, CloudWatch Logs and Application Auto Scaling beside it later, each a JsonService of its own.
 */
export interface JsonService {
  readonly targetPrefix: string;
  /** Service names a request's credential scope may carry for this API (e.g. `ecs`). */
  readonly signingNames: readonly string[];
  readonly model: ServiceModel;
  readonly operations: Readonly<Record<string, Operation>>;
  /** Largest request body this API accepts, when it differs from the listener's (Logs' batches are larger). */
  readonly bodyLimit?: number;
}

export interface JsonRpcOptions {
  readonly services: readonly JsonService[];
  readonly verifier: SigV4Verifier;
  readonly bodyLimit: number;
  /** Check every response against the model's output shape (tests turn this on). */
  readonly checkResponses?: boolean;
}

interface Mounted {
  readonly service: JsonService;
  readonly inputs: ShapeValidator;
  readonly outputs?: ShapeValidator;
  readonly serializer: ShapeSerializer;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Mounts the AWS JSON 1.1 protocol (dispatch, SigV4, validation, errors) at `POST /`. */
export async function jsonRpcRoutes(app: FastifyInstance, options: JsonRpcOptions): Promise<void> {
  const byPrefix = new Map<string, Mounted>();
  for (const service of options.services) {
    byPrefix.set(service.targetPrefix, {
      service,
      inputs: new ShapeValidator(service.model, 'input'),
      serializer: new ShapeSerializer(service.model),
      ...(options.checkResponses ? { outputs: new ShapeValidator(service.model, 'output') } : {}),
    });
  }

  await app.register(async (scope) => {
    // Keep the raw bytes: the signature covers them, and we parse the JSON ourselves.
    scope.removeAllContentTypeParsers();
    // Each request is read up to its own API's limit, chosen by X-Amz-Target before a byte of the body is read.
    scope.addContentTypeParser('*', (request: FastifyRequest, payload: IncomingMessage): Promise<Buffer> => {
      const mounted = byPrefix.get(targetPrefix(request.headers['x-amz-target']));
      return readBody(payload, mounted?.service.bodyLimit ?? options.bodyLimit, request.headers['content-length']);
    });
    scope.post('/', async (request, reply) => {
      try {
        const body = await dispatch(request, byPrefix, options.verifier);
        // A Buffer, so that Fastify leaves the content type exactly as AWS sends it (no charset).
        return reply.header('content-type', CONTENT_TYPE).send(Buffer.from(body));
      } catch (error) {
        return sendError(request, reply, error);
      }
    });
  });
}

/** The API part of an X-Amz-Target (`<prefix>.<Action>`); '' when there is none. */
function targetPrefix(target: string | string[] | undefined): string {
  const dot = typeof target === 'string' ? target.lastIndexOf('.') : -1;
  return dot > 0 ? (target as string).slice(0, dot) : '';
}

async function dispatch(request: FastifyRequest, byPrefix: Map<string, Mounted>, verifier: SigV4Verifier): Promise<string> {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const target = request.headers['x-amz-target'];
  const dot = typeof target === 'string' ? target.lastIndexOf('.') : -1;
  const mounted = byPrefix.get(targetPrefix(target));
  const rawUrl = request.raw.url ?? '/';
  const queryStart = rawUrl.indexOf('?');
  const auth = await verifier.verify({
    method: request.method,
    path: queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart),
    query: request.query as Record<string, string>,
    headers: request.headers,
    body,
  });

  if (!mounted) {
    throw new ServiceError('UnknownOperationException', `Unknown X-Amz-Target: ${String(target ?? '(none)')}`);
  }
  const { service } = mounted;
  const action = (target as string).slice(dot + 1);
  const model = Object.hasOwn(service.model.operations, action) ? service.model.operations[action] : undefined;
  if (!model) throw new ServiceError('UnknownOperationException', `Unknown operation ${action}.`);
  if (!service.signingNames.includes(auth.signingService)) {
    throw new ServiceError(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${service.signingNames[0]}'.`,
    );
  }
  const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
  if (!operation) {
    throw new ServiceError('UnsupportedFeatureException', `berth does not support the ${action} action yet.`);
  }

  const input = parseBody(body);
  if (model.input) mounted.inputs.check(model.input.shape, input);
  const output = await operation(input, {
    principal: auth.principal,
    requestId: request.id,
    log: request.log,
    host: request.headers.host ?? '',
  });
  if (!model.output) return '{}';
  if (mounted.outputs) mounted.outputs.check(model.output.shape, output);
  return mounted.serializer.serialize(model.output.shape, output);
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  const text = decodeUtf8(body);
  try {
    // A null member means "absent" in the AWS JSON protocol. A reviver costs a call per value, so it runs
    // only when the text can hold a null at all (the token is the only way to write one).
    return text.includes('null') ? JSON.parse(text, (_key, value) => (value === null ? undefined : value)) : JSON.parse(text);
  } catch {
    throw new ServiceError('SerializationException', 'The request body is not valid JSON.');
  }
}

/** Send `error` in the AWS JSON error shape; log server faults with their cause. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown, statusOverride?: number): FastifyReply {
  const { type, message, ...rest } = toErrorBody(error);
  const status = statusOverride ?? rest.status;
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.debug({ type, message }, 'request refused');
  // A body refused for its size was not read to its end: close the connection rather than read the rest.
  if (type === 'RequestEntityTooLargeException') reply.header('connection', 'close');
  return reply
    .code(status)
    .header('content-type', CONTENT_TYPE)
    .header('x-amzn-ErrorType', `${type}:`)
    .send(Buffer.from(JSON.stringify({ __type: type, message })));
}
