/**
 * Cloud Map's list filters (ListNamespaces, ListServices, ListOperations): `{Name, Values, Condition}` with
 * EQ (one value), IN (any of the values), BEGINS_WITH (names) and BETWEEN (two dates, epoch seconds). Pure.
 */
import { cloudMapErrors } from './errors.js';

export interface CloudMapFilter {
  readonly Name: string;
  readonly Values: readonly string[];
  readonly Condition?: string;
}

/** A predicate over a record's field values (by filter name); every filter must hold. */
export function filterMatcher<T>(filters: readonly CloudMapFilter[] | undefined, fields: Readonly<Record<string, (item: T) => string | number | undefined>>): (item: T) => boolean {
  const checks = (filters ?? []).map((f) => {
    const field = fields[f.Name];
    if (!field) throw cloudMapErrors.invalid(`Filters.Name '${f.Name}' is not one of ${Object.keys(fields).join(', ')}.`);
    const condition = f.Condition ?? 'EQ';
    if (condition === 'EQ' && f.Values.length !== 1) throw cloudMapErrors.invalid(`Filters.Values: the EQ condition takes exactly one value (${f.Name}).`);
    if (condition === 'BETWEEN') {
      if (f.Values.length !== 2) throw cloudMapErrors.invalid(`Filters.Values: the BETWEEN condition takes exactly two dates (${f.Name}).`);
      const [from, to] = f.Values.map(Number) as [number, number];
      if (!Number.isFinite(from) || !Number.isFinite(to)) throw cloudMapErrors.invalid(`Filters.Values: BETWEEN takes two dates in epoch seconds (${f.Name}).`);
      return (item: T) => {
        const v = Number(field(item));
        return v >= from && v <= to;
      };
    }
    if (condition === 'BEGINS_WITH') return (item: T) => f.Values.some((p) => String(field(item) ?? '').startsWith(p));
    if (condition !== 'EQ' && condition !== 'IN') throw cloudMapErrors.invalid(`Filters.Condition '${condition}' is not supported for ${f.Name}.`);
    return (item: T) => f.Values.includes(String(field(item)));
  });
  return (item) => checks.every((c) => c(item));
}
