import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorObject } from 'ajv';
import type { FastifyBaseLogger } from 'fastify';
import { ServiceError } from '../../model/errors.js';
import { authorizeCall, type Authorizer, type Refusal } from '../authz/authorizer.js';
import type { ActionTable } from '../authz/declarations.js';
import type { SigV4Verifier } from '../auth/sigv4.js';
import { toErrorBody, toQueryErrorBody } from '../errors.js';
import type { Operation } from './json-rpc.js';
import { decodeQueryInput, InvalidQueryScalar, parseForm, queryValidationError } from './query-form.js';
import { QueryXmlSerializer } from './query-xml.js';
import { BodyBuffers } from './body-buffers.js';
import { ResponseWriter } from './response-body.js';
import { decodedBody, decodeUtf8, readBody } from './request-body.js';
import type { ServiceModel } from './service-model.js';
import { ShapeValidator } from './shape-validator.js';
import { tagRequest } from '../request-metrics.js';
import { clientAddressOf } from '../client-address.js';

/**
 * One AWS Query-protocol API served at `POST /` with a form-encoded body, selected by the service name of the
 * request's SigV4 credential scope (`iam`, `sts`): the Query protocol has no target header, and the scope is
 * what the SDKs derive from the endpoint's service anyway.
 */
export interface QueryService {
  readonly signingName: string;
  readonly model: ServiceModel;
  /** Operations take the decoded, validated input and return the output structure (timestamps in epoch seconds). */
  readonly operations: Readonly<Record<string, Operation>>;
  /** Each served operation's IAM declaration (see json-rpc.ts's JsonService.actions). */
  readonly actions: ActionTable;
  /** How a request failing its input shape is answered (default: IAM's ValidationError wording, queryValidationError). */
  readonly inputError?: (error: ErrorObject) => Error;
  /** How a form value not of its shape's type is answered (default: IAM's ValidationError). */
  readonly scalarError?: (text: string, field: string) => Error;
  /** The Query code of an error, when the service's codes differ from berth's error names (SQS's `AWS.SimpleQueueService.NonExistentQueue`). */
  readonly errorCode?: (type: string, code: string) => string;
}

export interface QueryRpcOptions {
  readonly services: readonly QueryService[];
  readonly verifier: SigV4Verifier;
  /** The authorization step (the JSON APIs' own). */
  readonly authorizer?: Authorizer;
  readonly logger: FastifyBaseLogger;
  readonly bodyLimit: number;
  /** Check every response against the model's output shape (tests turn this on). */
  readonly checkResponses?: boolean;
}

interface Mounted {
  readonly service: QueryService;
  readonly inputs: ShapeValidator;
  readonly outputs?: ShapeValidator;
  readonly xml: QueryXmlSerializer;
}

/** The credential scope's service, read before the body to choose the error namespace; verification decides later. */
const SCOPE_SERVICE = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\//;

/** IAM and STS refuse with the Query protocol's AccessDenied (403). */
const accessDenied: Refusal = (message) => new ServiceError('AccessDenied', message);

/** Whether a request is for the Query protocol: a form-encoded POST. */
export function isQueryRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/**
 * The AWS Query protocol for `POST /` (form body in, XML out): body read up to the limit → SigV4 (the same
 * verifier as the JSON APIs) → service by credential scope → `Action` → input decoded from the form and checked
 * against the model → operation → XML from the output shape. Errors in the Query error shape, statuses from
 * api/errors.ts.
 */
export function queryRpcHandler(options: QueryRpcOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const bySigningName = new Map<string, Mounted>();
  for (const service of options.services) {
    bySigningName.set(service.signingName, {
      service,
      inputs: new ShapeValidator(service.model, 'input', service.inputError ?? queryValidationError),
      xml: new QueryXmlSerializer(service.model),
      ...(options.checkResponses ? { outputs: new ShapeValidator(service.model, 'output') } : {}),
    });
  }
  const fallback = bySigningName.values().next().value as Mounted;
  const { logger, verifier } = options;
  const buffers = new BodyBuffers();
  const answers = new ResponseWriter();

  return (req, res) => {
    const id = randomUUID();
    let log: FastifyBaseLogger | undefined;
    const logOf = () => (log ??= logger.child({ reqId: id }));
    const authorization = req.headers.authorization;
    const scoped = typeof authorization === 'string' ? SCOPE_SERVICE.exec(authorization)?.[1] : undefined;
    const errorsIn = (scoped !== undefined ? bySigningName.get(scoped) : undefined) ?? fallback;

    const respond = (status: number, body: string) => {
      const headers: Record<string, string | number> = { 'content-type': 'text/xml', 'x-amzn-RequestId': id };
      if (!req.complete) headers.connection = 'close';
      answers.send(res, status, headers, body);
    };
    const fail = (error: unknown) => {
      const { status, code, message, fault } = toQueryErrorBody(error);
      if (status >= 500) logOf().error({ err: error }, 'request failed');
      else if (logger.level === 'debug' || logger.level === 'trace') logOf().debug({ code, message }, 'request refused');
      respond(status, errorsIn.xml.error(errorsIn.service.errorCode?.(toErrorBody(error).type, code) ?? code, message, fault, id));
    };

    req.on('error', () => {});
    readBody(req, options.bodyLimit, req.headers['content-length'], buffers)
      .then(async (body) => {
        const rawUrl = req.url ?? '/';
        const queryStart = rawUrl.indexOf('?');
        const auth = await verifier.verify({
          method: req.method ?? 'POST',
          path: queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart),
          query: queryStart === -1 ? {} : queryOf(rawUrl.slice(queryStart + 1)),
          headers: req.headers,
          body,
        });
        const mounted = bySigningName.get(auth.signingService);
        let params: ReturnType<typeof parseForm>;
        try {
          params = parseForm(decodeUtf8(decodedBody(body, req.headers['content-encoding'], options.bodyLimit)));
        } finally {
          // Parsed into strings of their own: nothing reads the body's bytes again.
          buffers.give(body);
        }
        const action = params.get('Action');
        if (action === undefined || action === '') throw new ServiceError('InvalidAction', 'The request must contain the parameter Action.');
        if (!mounted) throw new ServiceError('InvalidAction', `The action ${action} is not valid for the service '${auth.signingService}' in the Query protocol.`);
        const { service } = mounted;
        const version = params.get('Version');
        const model = Object.hasOwn(service.model.operations, action) ? service.model.operations[action] : undefined;
        if (!model || (version !== undefined && version !== service.model.metadata.apiVersion)) {
          throw new ServiceError('InvalidAction', `Could not find operation ${action} for version ${version ?? '(none)'}`);
        }
        tagRequest(req, { service: auth.signingService, action });
        const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
        if (!operation) throw new ServiceError('UnsupportedFeatureException', `berth does not support the ${action} action yet.`);
        let input: Record<string, unknown> | undefined = model.input ? decodeInput(service, model.input.shape, params) : {};
        if (model.input) mounted.inputs.check(model.input.shape, input);
        const pending = authorizeCall(
          options.authorizer,
          {
            principal: auth.principal,
            action,
            actions: service.actions,
            input,
            remoteAddress: clientAddressOf(req),
            secure: (req.socket as { encrypted?: boolean }).encrypted === true,
          },
          accessDenied,
        );
        if (pending) await pending;
        const running = operation(input, {
          principal: auth.principal,
          requestId: id,
          get log() {
            return logOf();
          },
          host: req.headers.host ?? '',
        });
        // The input is the operation's now: not kept alive (and promoted by every garbage collection) while it runs.
        input = undefined;
        const output = await running;
        if (model.output && mounted.outputs) mounted.outputs.check(model.output.shape, output);
        return mounted.xml.response(action, output, id);
      })
      .then((xml) => respond(200, xml), fail)
      .catch((error: unknown) => logger.error({ err: error }, 'answering a request failed'));
  };
}

function decodeInput(service: QueryService, shape: string, params: ReadonlyMap<string, string>): Record<string, unknown> {
  try {
    return decodeQueryInput(service.model, shape, params);
  } catch (error) {
    if (error instanceof InvalidQueryScalar && service.scalarError) throw service.scalarError(error.text, error.field);
    throw error;
  }
}

function queryOf(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw)) {
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}
