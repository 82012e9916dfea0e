import { ServiceError } from '../../model/errors.js';

/** IAM's `Marker`/`MaxItems` paging over a listing sorted by a string key: the marker is the last key given. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly IsTruncated: boolean;
  readonly Marker?: string;
}

const DEFAULT_MAX_ITEMS = 100;

/** One page of `items` (already sorted by `keyOf`) after `marker`. */
export function page<T>(items: readonly T[], keyOf: (item: T) => string, input: { Marker?: string; MaxItems?: number }): Page<T> {
  const max = input.MaxItems ?? DEFAULT_MAX_ITEMS;
  let start = 0;
  if (input.Marker !== undefined) {
    const after = decodeMarker(input.Marker);
    start = items.findIndex((item) => keyOf(item) > after);
    if (start === -1) start = items.length;
  }
  const slice = items.slice(start, start + max);
  const truncated = start + max < items.length;
  return truncated ? { items: slice, IsTruncated: true, Marker: encodeMarker(keyOf(slice[slice.length - 1]!)) } : { items: slice, IsTruncated: false };
}

const encodeMarker = (key: string) => Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');

function decodeMarker(marker: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // answered below
  }
  throw new ServiceError('ValidationError', 'Invalid Marker.');
}
