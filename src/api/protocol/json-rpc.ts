import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorObject } from 'ajv';
import type { FastifyBaseLogger } from 'fastify';
import { ServiceError, type ErrorType } from '../../model/errors.js';
import type { Principal } from '../auth/credentials.js';
import type { SigV4Verifier } from '../auth/sigv4.js';
import { authorizeCall, type Authorizer } from '../authz/authorizer.js';
import type { ActionTable } from '../authz/declarations.js';
import { toErrorBody, toQueryErrorBody } from '../errors.js';
import { BodyBuffers } from './body-buffers.js';
import { decodedBody, decodeUtf8, readBody } from './request-body.js';
import type { ServiceModel } from './service-model.js';
import { ShapeSerializer } from './shape-serializer.js';
import { ShapeValidator } from './shape-validator.js';
import { WriteBatch } from './write-batch.js';
import { ResponseWriter, type AnswerBody } from './response-body.js';
import { clientAddressOf } from '../client-address.js';

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
  /**
   * Each served operation's IAM action, resources and condition keys (api/authz/declarations.ts): the
   * authorization step reads them; an operation without one is refused to every principal but root, and
   * api/authz/iam-actions.test.ts fails for it.
   */
  readonly actions: ActionTable;
  /** Largest request body this API accepts, when it differs from the listener's (Logs' batches are larger). */
  readonly bodyLimit?: number;
  /**
   * The error a request failing its input shape answers (default InvalidParameterException; SSM's is
   * ValidationException), or a function wording it (CloudWatch's MissingParameter/InvalidParameterValue).
   */
  readonly inputErrorType?: ErrorType | ((error: ErrorObject) => Error);
  /** The answers' Content-Type (default JSON 1.1's; CloudWatch speaks JSON 1.0). */
  readonly contentType?: string;
  /**
   * How an error is named on the wire, when not by its type alone: an awsQueryCompatible API (CloudWatch) names the
   * model's error shape in `__type` and its Query code in `x-amzn-query-error` (`Code;Sender`).
   */
  readonly wireError?: (type: string, queryCode: string, status: number) => WireError;
}

/** An error as an API names it on the wire. */
export interface WireError {
  readonly type: string;
  /** The `x-amzn-query-error` header. */
  readonly queryError?: string;
}

export interface JsonRpcOptions {
  readonly services: readonly JsonService[];
  readonly verifier: SigV4Verifier;
  /** The authorization step; without it every authenticated call runs (tests of the protocol alone). */
  readonly authorizer?: Authorizer;
  readonly logger: FastifyBaseLogger;
  /** Largest request body of an API that sets none of its own. */
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

/** What dispatch needs of a request whose body has been read. */
interface JsonRequest {
  readonly id: string;
  readonly method: string;
  readonly rawUrl: string;
  readonly headers: IncomingMessage['headers'];
  readonly target: string | undefined;
  readonly mounted: Mounted | undefined;
  readonly body: Buffer;
  readonly log: () => FastifyBaseLogger;
  /** The peer's address and whether it came over TLS (aws:SourceIp, aws:SecureTransport). */
  readonly remoteAddress: string | undefined;
  readonly secure: boolean;
  /** The listener's body limit (a service may set its own). */
  readonly limit: number;
  /** Where `body` goes back once parsed. */
  readonly buffers: BodyBuffers;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * The AWS JSON 1.1 protocol (dispatch, SigV4, validation, errors) for `POST /`, as a plain Node request
 * handler. It is the hottest path berth has, so it runs outside the web framework's routing, hooks and
 * reply machinery (a fifth of a DescribeTaskDefinition's server time went there); every other route stays
 * on Fastify. A body is held to its API's limit from Content-Length, before a byte of it is read.
 */
export function jsonRpcHandler(options: JsonRpcOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const byPrefix = new Map<string, Mounted>();
  for (const service of options.services) {
    byPrefix.set(service.targetPrefix, {
      service,
      inputs: new ShapeValidator(service.model, 'input', service.inputErrorType),
      serializer: new ShapeSerializer(service.model),
      ...(options.checkResponses ? { outputs: new ShapeValidator(service.model, 'output') } : {}),
    });
  }
  const { logger, verifier, authorizer } = options;
  const writes = new WriteBatch();
  const buffers = new BodyBuffers();
  const answers = new ResponseWriter();

  return (req, res) => {
    const id = randomUUID();
    const started = performance.now();
    // The per-request logger costs an object; most requests never log.
    let log: FastifyBaseLogger | undefined;
    const logOf = () => (log ??= logger.child({ reqId: id }));
    const rawTarget = req.headers['x-amz-target'];
    const target = typeof rawTarget === 'string' ? rawTarget : undefined;
    const dot = target === undefined ? -1 : target.lastIndexOf('.');
    const mounted = dot > 0 ? byPrefix.get(target!.slice(0, dot)) : undefined;
    const limit = mounted?.service.bodyLimit ?? options.bodyLimit;

    const respond = (status: number, body: AnswerBody, errorType?: string, queryError?: string) => {
      const headers: Record<string, string | number> = {
        'content-type': mounted?.service.contentType ?? CONTENT_TYPE,
        'x-amzn-RequestId': id,
      };
      if (errorType !== undefined) headers['x-amzn-ErrorType'] = `${errorType}:`;
      if (queryError !== undefined) headers['x-amzn-query-error'] = queryError;
      // A refused body still on its way is not read: the connection closes after the answer.
      if (!req.complete) headers.connection = 'close';
      writes.later(() => answers.send(res, status, headers, body));
      if (logger.level === 'debug' || logger.level === 'trace') {
        logOf().debug({ method: req.method, url: req.url, target, status, ms: performance.now() - started }, 'request');
      }
    };
    const fail = (error: unknown) => {
      const { type, message, status } = toErrorBody(error);
      if (status >= 500) logOf().error({ err: error }, 'request failed');
      else if (logger.level === 'debug' || logger.level === 'trace') logOf().debug({ type, message }, 'request refused');
      const wire = mounted?.service.wireError?.(type, toQueryErrorBody(error).code, status);
      respond(status, JSON.stringify({ __type: wire?.type ?? type, message }), wire?.type ?? type, wire?.queryError);
    };

    // A client that goes away mid-body is not an error of the server's (and an 'error' without a listener would be).
    req.on('error', () => {});
    readBody(req, limit, req.headers['content-length'], buffers)
      .then((body) =>
        dispatch(
          {
            id,
            method: req.method ?? 'POST',
            rawUrl: req.url ?? '/',
            headers: req.headers,
            target,
            mounted,
            body,
            log: logOf,
            remoteAddress: clientAddressOf(req),
            secure: (req.socket as { encrypted?: boolean }).encrypted === true,
            limit: options.bodyLimit,
            buffers,
          },
          verifier,
          authorizer,
        ),
      )
      .then((out) => respond(200, out), fail)
      // Answering cannot fail in a way a client could cause; if it ever does, it is logged, never unhandled.
      .catch((error: unknown) => logger.error({ err: error }, 'answering a request failed'));
  };
}

async function dispatch(request: JsonRequest, verifier: SigV4Verifier, authorizer: Authorizer | undefined): Promise<string | string[]> {
  const { rawUrl, target, mounted, body } = request;
  const queryStart = rawUrl.indexOf('?');
  const auth = await verifier.verify({
    method: request.method,
    path: queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart),
    query: queryStart === -1 ? {} : queryOf(rawUrl.slice(queryStart + 1)),
    headers: request.headers,
    body,
  });

  if (!mounted) {
    throw new ServiceError('UnknownOperationException', `Unknown X-Amz-Target: ${String(target ?? '(none)')}`);
  }
  const { service } = mounted;
  const action = target!.slice(target!.lastIndexOf('.') + 1);
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

  let input: unknown;
  try {
    input = parseBody(decodedBody(body, request.headers['content-encoding'], service.bodyLimit ?? request.limit));
  } finally {
    // Parsed into a string and objects of its own: nothing reads the body's bytes again.
    request.buffers.give(body);
  }
  if (model.input) mounted.inputs.check(model.input.shape, input);
  // Authorization: root passes without a lookup; any other principal is evaluated, synchronously when its
  // policies are cached (see authz/authorizer.ts).
  const pending = authorizeCall(authorizer, {
    principal: auth.principal,
    action,
    actions: service.actions,
    input,
    remoteAddress: request.remoteAddress,
    secure: request.secure,
  });
  if (pending) await pending;
  const running = operation(input, {
    principal: auth.principal,
    requestId: request.id,
    get log() {
      return request.log();
    },
    host: request.headers.host ?? '',
  });
  // The input is the operation's now: not kept alive (and promoted by every garbage collection) while it runs.
  input = undefined;
  const output = await running;
  if (!model.output) return '{}';
  if (mounted.outputs) mounted.outputs.check(model.output.shape, output);
  return mounted.serializer.serializePieces(model.output.shape, output);
}

/** A query string as the signature sees it: every value of a repeated name kept. */
export function queryOf(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw)) {
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
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
