import { ServiceError } from '../model/errors.js';

/** Application Auto Scaling's pages: MaxResults up to 50 (default 50), an opaque NextToken. */
export function pageList<T>(all: readonly T[], input: { NextToken?: string; MaxResults?: number }): { items: T[]; next?: string } {
  const size = input.MaxResults ?? 50;
  if (!(size >= 1 && size <= 50)) throw new ServiceError('ValidationException', `MaxResults must be between 1 and 50; ${size} was given.`);
  let start = 0;
  if (input.NextToken !== undefined) {
    const decoded = /^o(\d+)$/.exec(Buffer.from(input.NextToken, 'base64url').toString('utf8'));
    if (!decoded || Number(decoded[1]) > all.length) throw new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
    start = Number(decoded[1]);
  }
  const items = all.slice(start, start + size);
  return start + size < all.length ? { items, next: Buffer.from(`o${start + size}`).toString('base64url') } : { items };
}
