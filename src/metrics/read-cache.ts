import { addToSlot, FIELDS } from './aggregate.js';
import { SLOTS } from './levels.js';

/**
 * Rows as readers see them — every writer's row of a series, level and span merged into one count/sum/min/max
 * per slot — kept in memory between queries, so that a dashboard or an alarm asking again for the same day does
 * not read and merge the same 2,400 blobs from SQLite every time (that read was most of a GetMetricData over a
 * day of 100 series).
 *
 * Never stale: the store drops a row here when it commits its own new version of it, and drops everything when
 * SQLite's `data_version` says another connection (another replica, the leader's sweep in another process) has
 * committed since the cache was filled ({@link ReadCache.validate}). A row with no data is cached as such; so are
 * series lookups (forgotten when this store records a series or changes its unit).
 */
export class ReadCache {
  private readonly rows = new Map<number, Float64Array | null>();
  /** Series looked up by key: id and unit, or null when not stored. */
  readonly series = new Map<string, { id: number; unit: string } | null>();
  private version: number | undefined;

  constructor(private readonly limit: number) {}

  /** Empties the cache unless `dataVersion` is the one it was filled under. */
  validate(dataVersion: number): void {
    if (dataVersion === this.version) return;
    this.clear();
    this.version = dataVersion;
  }

  /** The merged row, null when it holds no data, undefined when not cached. */
  get(key: number): Float64Array | null | undefined {
    return this.rows.get(key);
  }

  set(key: number, row: Float64Array | null): void {
    if (this.limit <= 0) return;
    this.rows.set(key, row);
    if (this.rows.size <= this.limit) return;
    // Oldest first (a Map iterates in insertion order); a tenth more than needed, so a full cache does not trim on every read.
    let excess = this.rows.size - this.limit + Math.floor(this.limit / 10);
    for (const k of this.rows.keys()) {
      if (excess-- <= 0) break;
      this.rows.delete(k);
    }
  }

  delete(key: number): void {
    this.rows.delete(key);
  }

  clear(): void {
    this.rows.clear();
    this.series.clear();
  }
}

/** Adds a writer's row `from` into the merged row `into`, slot by slot. */
export function mergeRow(into: Float64Array, from: Float64Array): void {
  for (let slot = 0; slot < SLOTS; slot++) {
    const at = slot * FIELDS;
    if (from[at] !== 0) addToSlot(into, slot, from[at]!, from[at + 1]!, from[at + 2]!, from[at + 3]!);
  }
}
