import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServiceError } from '../../model/errors.js';
import { authorizeCall } from '../authz/authorizer.js';
import { toErrorBody } from '../errors.js';
import { tagRequest } from '../request-metrics.js';
import { queryOf, type JsonRpcOptions, type JsonService } from './json-rpc.js';
import { decodedBody, decodeUtf8, readBody } from './request-body.js';
import type { ServiceModel, StructureShape } from './service-model.js';
import { ShapeSerializer } from './shape-serializer.js';
import { ShapeValidator } from './shape-validator.js';
import { clientAddressOf } from '../client-address.js';

/**
 * The AWS REST-JSON protocol (EventBridge Scheduler): an operation is a method and a URI template from the model
 * (`POST /schedules/{Name}`); its input gathers the URI's labels, query-string members and the JSON body into the
 * one structure the other protocols hand operations, checked by the same ShapeValidator; the output is the body.
 * A request belongs to this handler when its SigV4 credential scope names a REST-JSON service (many REST APIs
 * share paths such as `/tags/{ResourceArn}`, so the path alone cannot say whose it is). Errors carry the model's
 * HTTP status for their shape (ResourceNotFoundException 404, ConflictException 409), `x-amzn-ErrorType` and a
 * body of `{"Message": …}` (the model's member) with `__type` beside it, which every SDK also reads, and the type
 * again as `ErrorCode` when the model's error shape has that member (EFS's errors do). A success answers the
 * operation's own status from the model (`responseCode`: EFS's 201 and 204), with no body for 204. It takes the
 * same options as the JSON protocol's handler.
 */
export type RestJsonOptions = JsonRpcOptions;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly labels: readonly string[];
  readonly action: string;
  /** Literal characters in the template: the more specific route wins when two match. */
  readonly weight: number;
}

interface Mounted {
  readonly service: JsonService;
  readonly routes: readonly Route[];
  readonly inputs: ShapeValidator;
  readonly outputs?: ShapeValidator;
  readonly serializer: ShapeSerializer;
}

const SCOPE = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/;

/** The signing service of a request's Authorization header (or presigned query), if any. */
function signingServiceOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? SCOPE.exec(auth) : /[?&]X-Amz-Credential=[^&/]+(?:%2F|\/)\d{8}(?:%2F|\/)[^&/%]+(?:%2F|\/)([^&/%]+)/i.exec(req.url ?? '');
  return m ? m[1] : undefined;
}

/** Compiles a model's URI template (`/schedules/{Name}`, `/objects/{Key+}`) into a pattern and its label names. */
export function routeOf(method: string, requestUri: string, action: string): Route {
  const path = requestUri.split('?')[0]!;
  const labels: string[] = [];
  let weight = 0;
  const source = path.replace(/\{([^}]+)\}|[^{]+/g, (part, label: string | undefined) => {
    if (label === undefined) {
      weight += part.length;
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    const greedy = label.endsWith('+');
    labels.push(greedy ? label.slice(0, -1) : label);
    return greedy ? '(.+)' : '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${source}$`), labels, action, weight };
}

export function isRestJsonRequest(req: IncomingMessage, signingNames: ReadonlySet<string>): boolean {
  const service = signingServiceOf(req);
  return service !== undefined && signingNames.has(service);
}

export function restJsonHandler(options: RestJsonOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const bySigningName = new Map<string, Mounted>();
  for (const service of options.services) {
    const routes = Object.entries(service.model.operations).map(([action, op]) => {
      const http = op.http;
      if (!http) throw new Error(`operation ${action} has no http binding`);
      return routeOf(http.method, http.requestUri, action);
    });
    const mounted: Mounted = {
      service,
      routes,
      inputs: new ShapeValidator(service.model, 'input', service.inputErrorType),
      serializer: new ShapeSerializer(service.model),
      ...(options.checkResponses ? { outputs: new ShapeValidator(service.model, 'output') } : {}),
    };
    for (const name of service.signingNames) bySigningName.set(name, mounted);
  }
  const { logger, verifier, authorizer } = options;

  return (req, res) => {
    const id = randomUUID();
    const mounted = bySigningName.get(signingServiceOf(req) ?? '');
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const rawQuery = queryStart === -1 ? '' : rawUrl.slice(queryStart + 1);
    const method = req.method ?? 'GET';
    const route = mounted?.routes.filter((r) => r.method === method && r.pattern.test(path)).sort((a, b) => b.weight - a.weight)[0];
    if (mounted) tagRequest(req, { service: mounted.service.signingNames[0]!, action: route?.action ?? 'unknown' });

    const respond = (status: number, body: string, errorType?: string) => {
      const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body), 'x-amzn-RequestId': id };
      if (body.length > 0) headers['content-type'] = 'application/json';
      if (errorType !== undefined) headers['x-amzn-ErrorType'] = errorType;
      if (!req.complete) headers.connection = 'close';
      res.writeHead(status, headers).end(body);
    };
    const fail = (error: unknown) => {
      const { type, message, status } = toErrorBody(error);
      if (status >= 500) logger.child({ reqId: id }).error({ err: error }, 'request failed');
      const body = mounted && hasErrorCodeMember(mounted.service.model, type) ? { __type: type, ErrorCode: type, Message: message } : { __type: type, Message: message };
      respond(mounted ? statusOf(mounted.service.model, type, status) : status, JSON.stringify(body), type);
    };

    req.on('error', () => {});
    readBody(req, mounted?.service.bodyLimit ?? options.bodyLimit, req.headers['content-length'])
      .then(async (body) => {
        const query = queryOf(rawQuery);
        const auth = await verifier.verify({ method, path, query, headers: req.headers, body });
        if (!mounted) throw new ServiceError('UnknownOperationException', `No REST API is signed for ${signingServiceOf(req) ?? '(none)'}.`);
        if (!route) throw new ServiceError('UnknownOperationException', `No operation at ${method} ${path}.`);
        const { service } = mounted;
        const model = service.model.operations[route.action]!;
        const operation = Object.hasOwn(service.operations, route.action) ? service.operations[route.action] : undefined;
        if (!operation) throw new ServiceError('UnsupportedFeatureException', `berth does not support the ${route.action} action yet.`);
        const input = model.input ? inputOf(service.model, model.input.shape, route, path, query, decodedBody(body, req.headers['content-encoding'], service.bodyLimit ?? options.bodyLimit)) : {};
        if (model.input) mounted.inputs.check(model.input.shape, input);
        const pending = authorizeCall(authorizer, {
          principal: auth.principal,
          action: route.action,
          actions: service.actions,
          input,
          remoteAddress: clientAddressOf(req),
          secure: (req.socket as { encrypted?: boolean }).encrypted === true,
        });
        if (pending) await pending;
        const output = await operation(input, {
          principal: auth.principal,
          requestId: id,
          get log() {
            return logger.child({ reqId: id });
          },
          host: req.headers.host ?? '',
        });
        const status = model.http?.responseCode ?? 200;
        if (status === 204) return { status, body: '' };
        if (!model.output) return { status, body: '{}' };
        if (mounted.outputs) mounted.outputs.check(model.output.shape, output);
        return { status, body: mounted.serializer.serialize(model.output.shape, output) };
      })
      .then(({ status, body }) => respond(status, body), fail)
      .catch((error: unknown) => logger.error({ err: error }, 'answering a request failed'));
  };
}

/** The HTTP status the model gives an error shape (`error.httpStatusCode`), else berth's own for its type. */
function statusOf(model: ServiceModel, type: string, fallback: number): number {
  const shape = model.shapes[type] as { error?: { httpStatusCode?: number } } | undefined;
  return shape?.error?.httpStatusCode ?? fallback;
}

/** Whether the model's error shape for `type` carries an `ErrorCode` member (EFS's errors), which SDKs fill from the body. */
function hasErrorCodeMember(model: ServiceModel, type: string): boolean {
  const shape = model.shapes[type] as { members?: Record<string, unknown> } | undefined;
  return shape?.members !== undefined && Object.hasOwn(shape.members, 'ErrorCode');
}

/** The operation's input structure: the JSON body's members, then labels and query members by their locationName. */
function inputOf(model: ServiceModel, shapeName: string, route: Route, path: string, query: Record<string, string | string[]>, body: Buffer): Record<string, unknown> {
  const input = parseBody(body);
  const shape = model.shapes[shapeName] as StructureShape;
  const labels = route.pattern.exec(path)!;
  for (const [member, ref] of Object.entries(shape.members)) {
    const { location, locationName } = ref;
    if (location === undefined) continue;
    // A bound member never comes from the body.
    delete input[member];
    const wireName = locationName ?? member;
    if (location === 'uri') {
      const index = route.labels.indexOf(wireName);
      if (index >= 0) input[member] = decodeLabel(labels[index + 1]!);
    } else if (location === 'querystring') {
      const raw = query[wireName];
      if (raw !== undefined) input[member] = queryValue(model, ref.shape, raw);
    }
  }
  return input;
}

function decodeLabel(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ServiceError('SerializationException', 'The request path is not valid percent-encoding.');
  }
}

/** A query value as its shape's type: lists keep every value, numbers and booleans are parsed (a bad one stays text for the validator to refuse). */
function queryValue(model: ServiceModel, shapeName: string, raw: string | string[]): unknown {
  const shape = model.shapes[shapeName];
  if (shape?.type === 'list') return Array.isArray(raw) ? raw : [raw];
  const text = Array.isArray(raw) ? raw[0]! : raw;
  if (shape?.type === 'integer' || shape?.type === 'long') return /^-?\d+$/.test(text) ? Number(text) : text;
  if (shape?.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(decodeUtf8(body), (_key, v: unknown) => (v === null ? undefined : v));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new ServiceError('SerializationException', 'The request body is not a JSON object.');
  }
}
