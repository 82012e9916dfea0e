import { pageAfterKey } from '../api/pagination.js';
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
  const marker = input.Marker;
  const { items: slice, next } = pageAfterKey(items, keyOf, marker, input.PageSize ?? DEFAULT_PAGE_SIZE, () => elbErrors.validation(`The marker '${marker}' is not valid`));
  return next !== undefined ? { items: slice, NextMarker: next } : { items: slice };
}
