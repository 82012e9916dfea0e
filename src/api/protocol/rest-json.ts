/**
 * The AWS REST-JSON protocol (EFS): an operation is chosen by its HTTP method and path template from the model
 * (`GET /2015-02-01/file-systems/{FileSystemId}/policy`), its input gathered from the path's labels, the query
 * string and the JSON body as the input shape's members say (`location: uri | querystring`, the rest in the body),
 * checked by the same validator as JSON 1.1 input, authorized by the same step, and answered with the operation's
 * own status (`responseCode`: 201, 202, 204…) and the output shape's body. Errors name their type in
 * `x-amzn-ErrorType` and in the body's `ErrorCode` (the member EFS's error shapes carry), with `Message`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { ServiceError } from '../../model/errors.js';
import type { SigV4Verifier } from '../auth/sigv4.js';
import { authorizeCall, type Authorizer } from '../authz/authorizer.js';
import type { ActionTable } from '../authz/declarations.js';
import { toErrorBody } from '../errors.js';
import { queryOf, type Operation } from './json-rpc.js';
import { decodedBody, decodeUtf8, readBody } from './request-body.js';
import type { MemberRef, OperationModel, ServiceModel, StructureShape } from './service-model.js';
import { ShapeSerializer } from './shape-serializer.js';
import { ShapeValidator } from './shape-validator.js';

/** One REST-JSON API: its model's routes, served on the shared listener beside the JSON and Query APIs. */
export interface RestJsonService {
  /** Service names a request's credential scope may carry (`elasticfilesystem`). */
  readonly signingNames: readonly string[];
  readonly model: ServiceModel;
  readonly operations: Readonly<Record<string, Operation>>;
  readonly actions: ActionTable;
}

export interface RestJsonOptions {
  readonly services: readonly RestJsonService[];
  readonly verifier: SigV4Verifier;
  readonly authorizer?: Authorizer;
  readonly logger: FastifyBaseLogger;
  readonly bodyLimit: number;
  readonly checkResponses?: boolean;
}

/** A path template split into segments: literals, and labels that take one segment each. */
interface Route {
  readonly service: Mounted;
  readonly name: string;
  readonly operation: OperationModel;
  readonly method: string;
  readonly segments: readonly ({ readonly literal: string } | { readonly label: string })[];
  readonly trailingSlash: boolean;
}

interface Mounted {
  readonly service: RestJsonService;
  readonly inputs: ShapeValidator;
  readonly outputs?: ShapeValidator;
  readonly serializer: ShapeSerializer;
}

export interface RestJsonHandler {
  /** Whether some mounted API has a route for this request's path (any method): then the handler answers it. */
  owns(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export function restJsonHandler(options: RestJsonOptions): RestJsonHandler {
  const routes: Route[] = [];
  const prefixes = new Set<string>();
  for (const service of options.services) {
    const mounted: Mounted = {
      service,
      inputs: new ShapeValidator(service.model, 'input', 'BadRequest'),
      serializer: new ShapeSerializer(service.model),
      ...(options.checkResponses ? { outputs: new ShapeValidator(service.model, 'output') } : {}),
    };
    for (const [name, operation] of Object.entries(service.model.operations)) {
      if (!operation.http) continue;
      const path = operation.http.requestUri.split('?')[0]!;
      const parts = path.split('/').filter((p) => p !== '');
      prefixes.add(`/${parts[0]}/`);
      routes.push({
        service: mounted,
        name,
        operation,
        method: operation.http.method,
        segments: parts.map((p) => (p.startsWith('{') ? { label: p.slice(1, -1).replace(/\+$/, '') } : { literal: p })),
        trailingSlash: path.endsWith('/') && path !== '/',
      });
    }
  }
  const { logger } = options;

  const owns = (req: IncomingMessage) => {
    const url = req.url ?? '/';
    for (const prefix of prefixes) if (url.startsWith(prefix)) return true;
    return false;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const id = randomUUID();
    const respond = (status: number, body: string, errorType?: string) => {
      const headers: Record<string, string | number> = { 'x-amzn-RequestId': id, 'content-length': Buffer.byteLength(body) };
      if (body.length > 0) headers['content-type'] = 'application/json';
      if (errorType !== undefined) headers['x-amzn-ErrorType'] = errorType;
      if (!req.complete) headers.connection = 'close';
      res.writeHead(status, headers).end(body);
    };
    const fail = (error: unknown) => {
      const { type, message, status } = toErrorBody(error);
      if (status >= 500) logger.error({ err: error, reqId: id }, 'request failed');
      respond(status, JSON.stringify({ ErrorCode: type, Message: message }), type);
    };
    req.on('error', () => {});
    readBody(req, options.bodyLimit, req.headers['content-length'])
      .then((body) => dispatch(req, body, id))
      .then(({ status, body }) => respond(status, body), fail)
      .catch((error: unknown) => logger.error({ err: error }, 'answering a request failed'));
  };

  const dispatch = async (req: IncomingMessage, body: Buffer, id: string): Promise<{ status: number; body: string }> => {
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));
    const auth = await options.verifier.verify({ method: req.method ?? 'GET', path: rawPath, query: queryOf(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1)), headers: req.headers, body });

    const match = findRoute(routes, req.method ?? 'GET', rawPath);
    if (!match) throw new ServiceError('UnknownOperationException', `No route for ${req.method ?? 'GET'} ${rawPath}.`);
    const { route, labels } = match;
    const { service } = route.service;
    if (!service.signingNames.includes(auth.signingService)) {
      throw new ServiceError('InvalidSignatureException', `Credential should be scoped to correct service: '${service.signingNames[0]}'.`);
    }
    const operation = Object.hasOwn(service.operations, route.name) ? service.operations[route.name] : undefined;
    if (!operation) throw new ServiceError('UnsupportedFeatureException', `berth does not support the ${route.name} action yet.`);

    const input = route.operation.input ? gatherInput(service.model, route.operation.input.shape, labels, query, decodedBody(body, req.headers['content-encoding'], options.bodyLimit)) : {};
    if (route.operation.input) route.service.inputs.check(route.operation.input.shape, input);
    const pending = authorizeCall(options.authorizer, {
      principal: auth.principal,
      action: route.name,
      actions: service.actions,
      input,
      remoteAddress: req.socket.remoteAddress,
      secure: (req.socket as { encrypted?: boolean }).encrypted === true,
    });
    if (pending) await pending;
    const log = logger.child({ reqId: id });
    const output = await operation(input, { principal: auth.principal, requestId: id, log, host: req.headers.host ?? '' });
    const status = route.operation.http?.responseCode ?? 200;
    if (!route.operation.output || status === 204) return { status, body: '' };
    if (route.service.outputs) route.service.outputs.check(route.operation.output.shape, output);
    return { status, body: route.service.serializer.serialize(route.operation.output.shape, output) };
  };

  return { owns, handle };
}

/** The route of `method path` and its labels' values (decoded), or undefined. */
function findRoute(routes: readonly Route[], method: string, rawPath: string): { route: Route; labels: Map<string, string> } | undefined {
  const parts = rawPath.split('/').filter((p) => p !== '');
  for (const route of routes) {
    if (route.method !== method || route.segments.length !== parts.length) continue;
    const labels = new Map<string, string>();
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const segment = route.segments[i]!;
      let value: string;
      try {
        value = decodeURIComponent(parts[i]!);
      } catch {
        ok = false;
        break;
      }
      if ('literal' in segment) ok = segment.literal === value;
      else labels.set(segment.label, value);
    }
    if (ok) return { route, labels };
  }
  return undefined;
}

/** The operation's input: labels and query parameters where the members say, the JSON body for the rest. */
function gatherInput(model: ServiceModel, shapeName: string, labels: Map<string, string>, query: URLSearchParams, body: Buffer): Record<string, unknown> {
  const shape = model.shapes[shapeName] as StructureShape;
  const input: Record<string, unknown> = body.length === 0 ? {} : parseBody(body);
  for (const [name, member] of Object.entries(shape.members)) {
    if (member.location === 'uri') {
      delete input[name];
      const value = labels.get(member.locationName ?? name);
      if (value !== undefined) input[name] = value;
    } else if (member.location === 'querystring') {
      delete input[name];
      const values = query.getAll(member.locationName ?? name);
      if (values.length > 0) input[name] = typedQueryValue(model, member, values);
    } else if (member.location !== undefined) {
      delete input[name];
    }
  }
  return input;
}

function typedQueryValue(model: ServiceModel, member: MemberRef, values: string[]): unknown {
  const shape = model.shapes[member.shape];
  if (shape?.type === 'list') return values;
  const value = values[0]!;
  if (shape?.type === 'integer' || shape?.type === 'long') return /^-?\d+$/.test(value) ? Number(value) : value;
  if (shape?.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

function parseBody(body: Buffer): Record<string, unknown> {
  const text = decodeUtf8(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_key, value) => (value === null ? undefined : value));
  } catch {
    throw new ServiceError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ServiceError('SerializationException', 'The request body is not a JSON object.');
  return parsed as Record<string, unknown>;
}
