import { invalidParameter } from '../model/errors.js';
import { SEQ_DIGITS } from './storage/keys.js';

/**
 * Page tokens. GetLogEvents' look like CloudWatch Logs' own (`f/` or `b/` and 56 digits): the stream id
 * (20 digits), then the boundary event's place: timestamp (16), chunk seq (15) and index in the chunk (5),
 * so a token is bound to its stream and names a place that merges of chunks keep. Listing tokens are opaque
 * base64url JSON bound to their listing.
 */

/** A place in one stream's event order: (timestamp, chunk seq, index in chunk). */
export interface StreamPosition {
  readonly ts: number;
  readonly seq: number;
  readonly idx: number;
}

export const directions = ['f', 'b'] as const;
export type Direction = (typeof directions)[number];

export interface EventToken {
  readonly direction: Direction;
  readonly position: StreamPosition;
}

const IDX_DIGITS = 5;
const EVENT_TOKEN = new RegExp(`^([fb])/(\\d{20})(\\d{16})(\\d{${SEQ_DIGITS}})(\\d{${IDX_DIGITS}})$`);

export function encodeEventToken(direction: Direction, streamId: string, position: StreamPosition): string {
  const digits = (n: number, width: number) => String(n).padStart(width, '0');
  return `${direction}/${streamId}${digits(position.ts, 16)}${digits(position.seq, SEQ_DIGITS)}${digits(position.idx, IDX_DIGITS)}`;
}

/** Decode a GetLogEvents token issued for `streamId`; anything else is InvalidParameterException. */
export function decodeEventToken(token: string, streamId: string): EventToken {
  const m = EVENT_TOKEN.exec(token);
  if (!m || m[2] !== streamId) throw invalidToken();
  const position = { ts: Number(m[3]), seq: Number(m[4]), idx: Number(m[5]) };
  if (!Number.isSafeInteger(position.ts)) throw invalidToken();
  return { direction: m[1] as Direction, position };
}

/** An opaque token for a listing of `kind`, carrying `state` (checked on decode by the caller). */
export function encodeListToken(kind: string, state: object): string {
  return Buffer.from(JSON.stringify({ k: kind, s: state })).toString('base64url');
}

export function decodeListToken<T>(kind: string, token: string, valid: (state: unknown) => state is T): T {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: unknown; s?: unknown };
    if (parsed.k === kind && valid(parsed.s)) return parsed.s;
  } catch {
    // fall through
  }
  throw invalidToken();
}

const invalidToken = () => invalidParameter('The specified nextToken is invalid.');
