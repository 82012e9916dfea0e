/**
 * A metric's identity as CloudWatch defines it: namespace, name and the set of dimensions (order does not
 * matter, so they are kept sorted by name). {@link seriesKey} is the one canonical string of it: the store's
 * unique key and ListMetrics' order.
 */
export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

export interface SeriesRef {
  readonly namespace: string;
  readonly name: string;
  /** Sorted by Name. */
  readonly dimensions: readonly Dimension[];
}

export function seriesRef(namespace: string, name: string, dimensions: readonly Dimension[] | undefined): SeriesRef {
  if (!dimensions || dimensions.length === 0) return { namespace, name, dimensions: [] };
  const sorted = dimensions.map((d) => ({ Name: d.Name, Value: d.Value }));
  if (sorted.length > 1) sorted.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return { namespace, name, dimensions: sorted };
}

/** Unambiguous: JSON of the parts (names and values may hold any character). */
export function seriesKey(ref: SeriesRef): string {
  return JSON.stringify([ref.namespace, ref.name, ref.dimensions.map((d) => [d.Name, d.Value])]);
}

/**
 * A cheaper string that is as unambiguous as {@link seriesKey} (each part length-prefixed), for maps in memory on
 * the ingest path, where building the JSON key for every datapoint cost more than the rest of the lookup.
 */
export function seriesMemoKey(namespace: string, name: string, dimensions: readonly Dimension[] | undefined): string {
  let key = `${namespace.length}:${namespace}${name.length}:${name}`;
  if (dimensions) for (const d of dimensions) key += `${d.Name.length}:${d.Name}${d.Value.length}:${d.Value}`;
  return key;
}
