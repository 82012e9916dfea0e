import { ServiceError } from '../../model/errors.js';
import { pageAfterKey } from '../pagination.js';

/** IAM's `Marker`/`MaxItems` paging over a listing sorted by a string key: the marker is the last key given. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly IsTruncated: boolean;
  readonly Marker?: string;
}

const DEFAULT_MAX_ITEMS = 100;

/** One page of `items` (already sorted by `keyOf`) after `marker`. */
export function page<T>(items: readonly T[], keyOf: (item: T) => string, input: { Marker?: string; MaxItems?: number }): Page<T> {
  const { items: slice, next } = pageAfterKey(items, keyOf, input.Marker, input.MaxItems ?? DEFAULT_MAX_ITEMS, () => new ServiceError('ValidationError', 'Invalid Marker.'));
  return next !== undefined ? { items: slice, IsTruncated: true, Marker: next } : { items: slice, IsTruncated: false };
}
