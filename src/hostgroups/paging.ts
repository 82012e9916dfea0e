import { pageAfterKey } from '../api/pagination.js';
import { hostGroupErrors } from './errors.js';

/**
 * Auto Scaling's `NextToken`/`MaxRecords` paging over a listing sorted by a string key: the token is opaque (the
 * last key given, encoded), so an item added or removed between pages neither repeats nor hides another.
 */
export function hostGroupPage<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  input: { NextToken?: string; MaxRecords?: number },
  defaultSize = 50,
): { items: T[]; NextToken?: string } {
  const max = input.MaxRecords ?? defaultSize;
  if (max < 1 || max > 100) throw hostGroupErrors.validation(`MaxRecords: ${max} is not between 1 and 100`);
  const { items: slice, next } = pageAfterKey(items, keyOf, input.NextToken, max, hostGroupErrors.badToken);
  return next !== undefined ? { items: slice, NextToken: next } : { items: slice };
}
