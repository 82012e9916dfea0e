import type { ServiceModel, StructureShape } from '../api/protocol/service-model.js';

/** An HTTP request of the REST-JSON protocol, as the SDKs make it from an operation's input. */
export interface RestJsonRequest {
  readonly method: string;
  /** The path with its labels filled in (percent-encoded). */
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  /** The JSON body: the input's members bound to no URI label, query parameter or header. */
  readonly body: string;
}

/**
 * The request for `input` of `operation` (tests: fuzzing REST-JSON APIs as clients send them). A label the input
 * lacks or gives as a non-string or empty string is written as its JSON text, so a mutated input still makes some request.
 */
export function restJsonRequestOf(model: ServiceModel, operation: string, input: unknown): RestJsonRequest {
  const op = model.operations[operation] as unknown as { http: { method: string; requestUri: string }; input?: { shape: string } };
  const members = op.input ? (model.shapes[op.input.shape] as StructureShape).members : {};
  const values = typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...(input as Record<string, unknown>) } : {};
  const labels = new Map<string, unknown>();
  const query: Record<string, string | string[]> = {};
  for (const [member, ref] of Object.entries(members)) {
    const { location, locationName } = ref as { location?: string; locationName?: string };
    if (location === undefined) continue;
    const value = values[member];
    delete values[member];
    if (location === 'uri') labels.set(locationName ?? member, value);
    else if (location === 'querystring' && value !== undefined) query[locationName ?? member] = Array.isArray(value) ? value.map((v) => wellFormed(String(v))) : wellFormed(String(value));
  }
  const path = op.http.requestUri.split('?')[0]!.replace(/\{([^}+]+)\+?\}/g, (_whole, label: string) => {
    const value = labels.get(label);
    // A generated string may hold a lone surrogate, which encodeURIComponent refuses; the SDKs' encoders replace it.
    // An empty label would leave `//` in the path, which no route matches (the SDKs refuse to send one).
    return encodeURIComponent(wellFormed(typeof value === 'string' && value !== '' ? value : JSON.stringify(value ?? '')));
  });
  return { method: op.http.method, path, query, body: JSON.stringify(values) };
}

/** The query parameters as a query string (a list member repeated, as the SDKs write it). */
export function queryString(query: Readonly<Record<string, string | string[]>>): string {
  return new URLSearchParams(Object.entries(query).flatMap(([k, v]): [string, string][] => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString();
}

/** `text` with each lone surrogate replaced by U+FFFD (String.prototype.toWellFormed, which this lib target lacks). */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
