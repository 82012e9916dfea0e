/**
 * The AWS JSON 1.0/1.1 wire format as the agent needs it: a request body from an input, the typed error a
 * refusal becomes, and the types a response body has (timestamps are epoch seconds, blobs base64).
 */

/** `T` as it arrives on the wire: a Date is epoch seconds, a blob is base64 text. */
export type Wire<T> = T extends Date
  ? number
  : T extends Uint8Array
    ? string
    : T extends readonly (infer E)[]
      ? Wire<E>[]
      : T extends object
        ? { [K in keyof T as K extends '$metadata' ? never : K]: Wire<T[K]> }
        : T;

/** An input's JSON body: a Date is sent as epoch seconds and a blob as base64, as the SDK serialises them. */
export function requestBody(input: unknown): string {
  return JSON.stringify(input ?? {}, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `value` is already Date.prototype.toJSON's string: the holder still has the Date.
    const original = key === '' ? value : this[key];
    if (original instanceof Date) return original.getTime() / 1000;
    if (original instanceof Uint8Array) return Buffer.from(original).toString('base64');
    return value;
  });
}

/**
 * A call refused by the service: `name` (and `code`) is the AWS error code (`ClientException`, …), as the
 * SDK names its exceptions, so code that tells refusals apart by name works with either; the body's other
 * fields (a ClientException's, say) are on the error too.
 */
export class AwsServiceError extends Error {
  readonly code: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string; readonly attempts: number };
  [field: string]: unknown;

  constructor(code: string, message: string, status: number, requestId: string | undefined, attempts: number, fields: Record<string, unknown> = {}) {
    super(message);
    for (const [k, v] of Object.entries(fields)) if (!(k in this) && k !== '__type' && k.toLowerCase() !== 'message') this[k] = v;
    this.name = code;
    this.code = code;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}), attempts };
  }
}

/** A call that got no answer in time (the SDK's name for it, which endpoints.isUnavailable knows). */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * The error a non-2xx response stands for. The code comes from the `x-amzn-errortype` header or the body's
 * `__type` (or `code`), without a namespace (`aws.ecs#ClientException`) or a trailing `:…` URI, as the SDK
 * reads it; a response with neither is named by its status.
 */
export function responseError(status: number, headers: Record<string, string | string[] | undefined>, body: string, attempts: number): AwsServiceError {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = body ? JSON.parse(body) : {};
    if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status names it.
  }
  const header = headers['x-amzn-errortype'];
  const raw = (typeof header === 'string' && header) || stringField(parsed, '__type') || stringField(parsed, 'code') || (status >= 500 ? 'InternalFailure' : `Http${status}`);
  const code = raw.split(':')[0]!.split('#').pop()!;
  const message = stringField(parsed, 'message') ?? stringField(parsed, 'Message') ?? (body && !Object.keys(parsed).length ? body.slice(0, 200) : code);
  const requestId = headers['x-amzn-requestid'];
  return new AwsServiceError(code, message, status, typeof requestId === 'string' ? requestId : undefined, attempts, parsed);
}

const stringField = (o: Record<string, unknown>, key: string): string | undefined => (typeof o[key] === 'string' ? o[key] : undefined);
