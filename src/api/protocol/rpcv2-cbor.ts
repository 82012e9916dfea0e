import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Decoder, Encoder } from 'cbor-x';
import type { FastifyBaseLogger } from 'fastify';
import { ServiceError } from '../../model/errors.js';
import type { SigV4Verifier } from '../auth/sigv4.js';
import { authorizeCall, type Authorizer } from '../authz/authorizer.js';
import { toErrorBody, toQueryErrorBody } from '../errors.js';
import type { JsonService } from './json-rpc.js';
import { BodyBuffers } from './body-buffers.js';
import { timestampList } from './cbor-timestamp-list.js';
import { decodedBody, readBody } from './request-body.js';
import { ResponseWriter } from './response-body.js';
import type { ServiceModel } from './service-model.js';
import { ShapeValidator } from './shape-validator.js';
import { clientAddressOf } from '../client-address.js';

/**
 * Smithy RPC v2 CBOR: `POST /service/<ServiceName>/operation/<Operation>` with `smithy-protocol: rpc-v2-cbor` and
 * a CBOR body (RFC 8949), answered in CBOR. It serves the same {@link JsonService}s as the JSON protocol — the
 * Smithy service name is their X-Amz-Target prefix — so one implementation answers both: the input is decoded
 * into the same plain structure the JSON protocol parses (timestamps, tag 1, as epoch seconds; byte strings as
 * base64 text, how the model check and the operations see blobs), checked by the same ShapeValidator, and the
 * output walked by its shape to write timestamps back as tag 1. CBOR by cbor-x (maintained, fast; records and
 * typed-array tags off, so what it writes is plain CBOR every client reads).
 */
export interface RpcV2CborOptions {
  readonly services: readonly JsonService[];
  readonly verifier: SigV4Verifier;
  readonly authorizer?: Authorizer;
  readonly logger: FastifyBaseLogger;
  readonly bodyLimit: number;
  readonly checkResponses?: boolean;
}

const PATH = /^\/service\/([^/?]+)\/operation\/([^/?]+)$/;

interface Mounted {
  readonly service: JsonService;
  readonly inputs: ShapeValidator;
  readonly outputs?: ShapeValidator;
}

const ENCODER_OPTIONS = { useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true } as const;
let encoder = new Encoder(ENCODER_OPTIONS);
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });
/**
 * cbor-x's flags (exported by it, not in its type declarations): answer the encoder's memory itself, with the
 * answer's `start` and `end`, and write the next answer from the same start.
 */
const REUSE_BUFFER_MODE = 512;
const RESET_BUFFER_MODE = 1024;
type ModalEncoder = { encode(value: unknown, mode: number): Buffer & { start: number; end: number } };
/** Encoder memory kept past this (grown for one unusually large answer) is dropped with a fresh encoder. */
const MAX_ENCODER_MEMORY = 16 * 1024 * 1024;

/**
 * `value` in CBOR, as a view of the encoder's own memory, valid until the next call (ResponseWriter copies it). By
 * default cbor-x writes each answer after the last one in its buffer and starts a fresh buffer when that is full:
 * a fresh allocation, grown by doubling, for every large answer (1.2 MB for GetMetricData's 144,000 datapoints).
 * Written from the start of one buffer every time instead, the buffer grows to the largest answer and stays.
 */
function encodeAnswer(value: unknown): Uint8Array {
  const memory = (encoder as unknown as ModalEncoder).encode(value, REUSE_BUFFER_MODE | RESET_BUFFER_MODE);
  const bytes = memory.subarray(memory.start, memory.end);
  if (memory.length > MAX_ENCODER_MEMORY) encoder = new Encoder(ENCODER_OPTIONS);
  return bytes;
}

/** Whether a request is for this protocol (its path). */
export function isRpcV2CborRequest(req: IncomingMessage): boolean {
  return req.method === 'POST' && req.url !== undefined && req.url.startsWith('/service/');
}

export function rpcV2CborHandler(options: RpcV2CborOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const byName = new Map<string, Mounted>();
  for (const service of options.services) {
    byName.set(service.targetPrefix, {
      service,
      inputs: new ShapeValidator(service.model, 'input', service.inputErrorType),
      ...(options.checkResponses ? { outputs: new ShapeValidator(service.model, 'output') } : {}),
    });
  }
  const { logger, verifier, authorizer } = options;
  const buffers = new BodyBuffers();
  const answers = new ResponseWriter();

  return (req, res) => {
    const id = randomUUID();
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const match = PATH.exec(path);
    const mounted = match ? byName.get(decodeURIComponent(match[1]!)) : undefined;
    const action = match ? decodeURIComponent(match[2]!) : '';

    const respond = (status: number, body: Uint8Array | undefined, queryError?: string) => {
      const headers: Record<string, string | number> = { 'smithy-protocol': 'rpc-v2-cbor', 'x-amzn-RequestId': id };
      if (body) headers['content-type'] = 'application/cbor';
      if (queryError !== undefined) headers['x-amzn-query-error'] = queryError;
      if (!req.complete) headers.connection = 'close';
      answers.send(res, status, headers, body);
    };
    const fail = (error: unknown) => {
      const { type, message, status } = toErrorBody(error);
      if (status >= 500) logger.child({ reqId: id }).error({ err: error }, 'request failed');
      const wire = mounted?.service.wireError?.(type, toQueryErrorBody(error).code, status);
      respond(status, encodeAnswer({ __type: wire?.type ?? type, message }), wire?.queryError);
    };

    req.on('error', () => {});
    readBody(req, mounted?.service.bodyLimit ?? options.bodyLimit, req.headers['content-length'], buffers)
      .then(async (body) => {
        const auth = await verifier.verify({ method: 'POST', path, query: {}, headers: req.headers, body });
        if (String(req.headers['smithy-protocol']).toLowerCase() !== 'rpc-v2-cbor') {
          throw new ServiceError('SerializationException', 'The smithy-protocol header must be rpc-v2-cbor.');
        }
        if (!mounted) throw new ServiceError('UnknownOperationException', `No service at ${path}.`);
        const { service } = mounted;
        const model = Object.hasOwn(service.model.operations, action) ? service.model.operations[action] : undefined;
        if (!model) throw new ServiceError('UnknownOperationException', `Unknown operation ${action}.`);
        if (!service.signingNames.includes(auth.signingService)) {
          throw new ServiceError('InvalidSignatureException', `Credential should be scoped to correct service: '${service.signingNames[0]}'.`);
        }
        const operation = Object.hasOwn(service.operations, action) ? service.operations[action] : undefined;
        if (!operation) throw new ServiceError('UnsupportedFeatureException', `berth does not support the ${action} action yet.`);
        let input: unknown;
        try {
          input = decodeInput(decodedBody(body, req.headers['content-encoding'], service.bodyLimit ?? options.bodyLimit));
        } finally {
          // Decoded into values of its own (byte strings turned to base64 text): nothing reads the body's bytes again.
          buffers.give(body);
        }
        if (model.input) mounted.inputs.check(model.input.shape, input);
        const pending = authorizeCall(authorizer, {
          principal: auth.principal,
          action,
          actions: service.actions,
          input,
          remoteAddress: clientAddressOf(req),
          secure: (req.socket as { encrypted?: boolean }).encrypted === true,
        });
        if (pending) await pending;
        const running = operation(input, {
          principal: auth.principal,
          requestId: id,
          get log() {
            return logger.child({ reqId: id });
          },
          host: req.headers.host ?? '',
        });
        // The input is the operation's now: not kept alive (and promoted by every garbage collection) while it runs.
        input = undefined;
        const output = await running;
        if (!model.output) return undefined;
        if (mounted.outputs) mounted.outputs.check(model.output.shape, output);
        return { wire: toWire(service.model, model.output.shape, output, 0) };
      })
      // Encoded where it is written: encodeAnswer's bytes last only until its next call.
      .then((out) => {
        let body: Uint8Array | undefined;
        try {
          body = out && encodeAnswer(out.wire);
        } catch (error) {
          fail(error);
          return;
        }
        respond(200, body);
      }, fail)
      .catch((error: unknown) => logger.error({ err: error }, 'answering a request failed'));
  };
}

/** The body as the plain structure the JSON protocol would have parsed. */
export function decodeInput(body: Buffer): unknown {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = decoder.decode(body);
  } catch {
    throw new ServiceError('SerializationException', 'The request body is not valid CBOR.');
  }
  return fromCbor(value, 0);
}

const MAX_DEPTH = 64;

/**
 * Converted in place: the decoder's arrays and objects are this request's own, and a copy of every structure (a
 * PutMetricData of 1,000 datums is some 4,000 objects) was garbage for the collector on the ingest path.
 */
function fromCbor(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ServiceError('SerializationException', 'The request body is nested too deeply.');
  if (value === null) return undefined;
  if (typeof value !== 'object') return typeof value === 'bigint' ? Number(value) : value;
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromCbor(value[i], depth + 1);
    return value;
  }
  if (value instanceof Map) throw new ServiceError('SerializationException', 'Map keys must be text strings.');
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) {
    const converted = fromCbor(record[k], depth + 1);
    // A null member is an absent one (rare: deleting makes the object slower to read).
    if (converted === undefined) delete record[k];
    else if (converted !== record[k]) record[k] = converted;
  }
  return record;
}

const NUMBERS: ReadonlySet<string | undefined> = new Set(['integer', 'long', 'float', 'double']);
const isNumber = (v: unknown): v is number => typeof v === 'number';

/** `value` (an output of `shapeName`) for CBOR: timestamps (epoch seconds) as Dates (tag 1), blobs as bytes, unknown members left out. */
export function toWire(model: ServiceModel, shapeName: string, value: unknown, depth: number): unknown {
  const shape = model.shapes[shapeName];
  if (!shape || value === undefined || value === null || depth > MAX_DEPTH) return undefined;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object') return undefined;
      const out: Record<string, unknown> = {};
      for (const [member, ref] of Object.entries(shape.members)) {
        const v = toWire(model, ref.shape, (value as Record<string, unknown>)[member], depth + 1);
        if (v !== undefined) out[member] = v;
      }
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) return undefined;
      // Numbers and timestamps as they are (no copy, no call per element) when every element is a number:
      // GetMetricData answers 144,000 of each.
      const member = model.shapes[shape.member.shape]?.type;
      if ((member === 'timestamp' || NUMBERS.has(member)) && value.every(isNumber)) return member === 'timestamp' ? timestampList(value) : value;
      return value.map((v) => toWire(model, shape.member.shape, v, depth + 1)).filter((v) => v !== undefined);
    }
    case 'map': {
      if (typeof value !== 'object') return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const w = toWire(model, shape.value.shape, v, depth + 1);
        if (w !== undefined) out[k] = w;
      }
      return out;
    }
    case 'timestamp':
      return value instanceof Date ? value : new Date(Number(value) * 1000);
    case 'blob':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    default:
      return value;
  }
}
