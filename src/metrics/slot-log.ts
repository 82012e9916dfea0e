import { FIELDS } from './aggregate.js';
import type { LogRecord } from './store-schema.js';
import { float64View, type Sketch } from './sketch.js';
import { statsBytes, type Row } from './writer-row.js';

/**
 * The slot log's records (the `slot_log` table): what a commit appends for a row it changed instead of rewriting
 * the row. A record holds the writer's slots `first`..`first + n − 1` of the row *as they now are* (not what was
 * added), and their sketches, so applying a writer's records in order over its stored row gives its current
 * row, and applying one twice changes nothing. Why: a commit that rewrote every touched row whole wrote 1,920
 * bytes a row (and a B-tree page each, scattered by series) for a few changed slots; appended records fill a few
 * pages at the end of one table. Each writer rewrites its rows whole every so many commits ("compaction",
 * metric-store.ts) and drops their records in the same transaction.
 *
 * Sketch bytes: per slot that has one, float64 `slot, n, (key, count) × n`.
 */

/** The record of `row`'s slots changed since the last commit: its stats and sketches as bytes. */
export function logRecordOf(row: Row): { first: number; stats: Buffer; sketches: Buffer | null } {
  const { lo, hi } = row;
  let size = 0;
  for (let slot = lo; slot <= hi; slot++) {
    const sketch = row.sketches.get(slot);
    if (sketch) size += 2 + 2 * sketch.size;
  }
  let sketches: Buffer | null = null;
  if (size > 0) {
    const out = new Float64Array(size);
    let i = 0;
    for (let slot = lo; slot <= hi; slot++) {
      const sketch = row.sketches.get(slot);
      if (!sketch) continue;
      out[i++] = slot;
      out[i++] = sketch.size;
      for (const [key, count] of sketch) {
        out[i++] = key;
        out[i++] = count;
      }
    }
    sketches = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }
  return { first: lo, stats: statsBytes(row.stats, lo, hi + 1), sketches };
}

/** Lays a record's stats over a writer's row (its slots replaced: a record holds their current values). */
export function applyStats(stats: Float64Array, record: Pick<LogRecord, 'first' | 'stats'>): void {
  stats.set(float64View(record.stats), record.first * FIELDS);
}

/** Each slot's sketch in a record, by slot: replacing what the row's slots had. */
export function recordSketches(record: Pick<LogRecord, 'sketches'>, each: (slot: number, sketch: Sketch) => void): void {
  if (!record.sketches) return;
  const values = float64View(record.sketches);
  let i = 0;
  while (i < values.length) {
    const slot = values[i++]!;
    const n = values[i++]!;
    const sketch: Sketch = new Map();
    for (let k = 0; k < n; k++, i += 2) sketch.set(values[i]!, values[i + 1]!);
    each(slot, sketch);
  }
}
