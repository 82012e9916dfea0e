import { elbErrors } from './errors.js';

/**
 * ELB's `Marker`/`PageSize` paging over a listing sorted by a string key: the marker is opaque to clients (the
 * last key given, encoded), so an item added or removed between pages neither repeats nor hides another.
 */
export interface ElbPage<T> {
  readonly items: T[];
  readonly NextMarker?: string;
}

/** AWS's page size when PageSize is omitted (its maximum, 400). */
const DEFAULT_PAGE_SIZE = 400;

/** One page of `items` (sorted by `keyOf`) after `Marker`. */
export function elbPage<T>(items: readonly T[], keyOf: (item: T) => string, input: { Marker?: string; PageSize?: number }): ElbPage<T> {
  const size = input.PageSize ?? DEFAULT_PAGE_SIZE;
  let start = 0;
  if (input.Marker !== undefined) {
    const after = decodeMarker(input.Marker);
    start = items.findIndex((item) => keyOf(item) > after);
    if (start === -1) start = items.length;
  }
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, NextMarker: encodeMarker(keyOf(slice[slice.length - 1]!)) } : { items: slice };
}

const encodeMarker = (key: string) => Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');

function decodeMarker(marker: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // answered below
  }
  throw elbErrors.validation(`The marker '${marker}' is not valid`);
}
