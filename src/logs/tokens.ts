import { invalidParameter } from '../model/errors.js';
import type { Position } from './storage/events.js';

/**
 * Page tokens. GetLogEvents' look like CloudWatch Logs' own (`f/` or `b/` and 56 digits): the stream id
 * (20 digits), the timestamp (20) and the event id (16) of the boundary, so a token is bound to its
 * stream and a page is one index seek. Listing tokens are opaque base64url JSON bound to their listing.
 */

export const directions = ['f', 'b'] as const;
export type Direction = (typeof directions)[number];

export interface EventToken {
  readonly direction: Direction;
  readonly position: Position;
}

const EVENT_TOKEN = /^([fb])\/(\d{20})(\d{20})(\d{16})$/;

export function encodeEventToken(direction: Direction, streamId: number, position: Position): string {
  const digits = (n: number, width: number) => String(n).padStart(width, '0');
  return `${direction}/${digits(streamId, 20)}${digits(position.ts, 20)}${digits(position.id, 16)}`;
}

/** Decode a GetLogEvents token issued for `streamId`; anything else is InvalidParameterException. */
export function decodeEventToken(token: string, streamId: number): EventToken {
  const m = EVENT_TOKEN.exec(token);
  if (!m || Number(m[2]) !== streamId) throw invalidToken();
  const position = { ts: Number(m[3]), id: Number(m[4]) };
  if (!Number.isSafeInteger(position.ts) || !Number.isSafeInteger(position.id)) throw invalidToken();
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
