import type { IncomingMessage } from 'node:http';
import type { JsonService } from './protocol/json-rpc.js';

/** What a request is counted under in operators' metrics: the API (its signing name) and the action. */
export interface RequestLabels {
  readonly service: string;
  readonly action: string;
}

/** Told of every request the listener answered: its labels, HTTP status and seconds from arrival to answer. */
export type ObserveRequest = (labels: RequestLabels, status: number, seconds: number) => void;

/** Labels a protocol handler learned from the body (the Query protocol's `Action`), which headers don't carry. */
const tags = new WeakMap<IncomingMessage, RequestLabels>();

/** Record which API and action `req` turned out to be (called by handlers that only know it after reading the body). */
export function tagRequest(req: IncomingMessage, labels: RequestLabels): void {
  tags.set(req, labels);
}

/** An action name nobody serves is counted as `unknown`, so a client sending junk cannot grow the series without end. */
const UNKNOWN = 'unknown';

/**
 * The labels of a request from what arrives with it: JSON APIs by `X-Amz-Target`, RPC v2 CBOR by its path,
 * anything a handler tagged (Query) by its tag; other routes as `http` with the route's kind.
 */
export function requestLabeler(json: readonly JsonService[], cbor: readonly JsonService[]): (req: IncomingMessage) => RequestLabels {
  const byPrefix = new Map(json.map((s) => [s.targetPrefix, s]));
  const byCborName = new Map(cbor.map((s) => [s.targetPrefix, s]));
  const known = (service: JsonService | undefined, action: string): RequestLabels =>
    service
      ? { service: service.signingNames[0] ?? service.targetPrefix, action: Object.hasOwn(service.model.operations, action) ? action : UNKNOWN }
      : { service: UNKNOWN, action: UNKNOWN };
  return (req) => {
    const tagged = tags.get(req);
    if (tagged) return tagged;
    const url = req.url ?? '/';
    if (req.method === 'POST' && (url === '/' || url.startsWith('/?'))) {
      const target = req.headers['x-amz-target'];
      if (typeof target !== 'string') return { service: UNKNOWN, action: UNKNOWN };
      const dot = target.lastIndexOf('.');
      return known(byPrefix.get(target.slice(0, Math.max(dot, 0))), target.slice(dot + 1));
    }
    const cborMatch = req.method === 'POST' ? /^\/service\/([^/?]+)\/operation\/([^/?]+)/.exec(url) : null;
    if (cborMatch) return known(byCborName.get(safeDecode(cborMatch[1]!)), safeDecode(cborMatch[2]!));
    if (url.startsWith('/v2/') || url === '/v2') return { service: 'http', action: 'registry' };
    if (url === '/healthz') return { service: 'http', action: 'healthz' };
    return { service: 'http', action: 'other' };
  };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
