import { createHash } from 'node:crypto';
import { ServiceError } from '../../model/errors.js';
import { invalidParameter, invalidValue } from './errors.js';

/** CloudWatch's periods: 1, 5, 10, 20, 30 (high resolution) or any multiple of 60 seconds. */
export function checkPeriod(field: string, period: number): void {
  if (!(period === 1 || period === 5 || period === 10 || period === 20 || period === 30 || period % 60 === 0)) {
    throw invalidValue(field, period, 'Valid values are 1, 5, 10, 20, 30 and any multiple of 60.');
  }
}

export function checkRange(start: number, end: number): void {
  if (!(end > start)) throw invalidParameter('The parameter StartTime must be less than the parameter EndTime.');
}

/**
 * A paging token: where the next page starts, bound to the request it came from (a token replayed with other
 * parameters is refused, not misapplied).
 */
export function encodeToken(position: unknown, request: unknown): string {
  return Buffer.from(JSON.stringify({ p: position, h: digest(request) })).toString('base64url');
}

export function decodeToken<T>(token: string, request: unknown): T {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p: T; h: string };
    if (parsed.h === digest(request) && parsed.p !== undefined) return parsed.p;
  } catch {
    // Falls through to the error below.
  }
  throw new ServiceError('InvalidNextToken', 'The service cannot decode the NextToken, or it was not issued for this request.');
}

function digest(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('base64url').slice(0, 16);
}
