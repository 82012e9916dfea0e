import { FIELDS } from './aggregate.js';
import { LEVELS, SLOTS } from './levels.js';
import { mergeRow } from './read-cache.js';
import { decodeSketch, float64View, type Sketch } from './sketch.js';
import { applyStats, recordSketches } from './slot-log.js';
import type { LogRecord, Statements } from './store-schema.js';
import { newRow, type Row } from './writer-row.js';

/**
 * Rows and sketches as stored: each writer's rows with its slot-log records laid over them (slot-log.ts), then
 * merged across writers. Without log records in range (the common case for all but the last minutes) a row is
 * read as it always was, one blob a writer.
 */

/** Every writer's rows of a series and level from `firstRow` (a row start) to `end`, merged, by start. */
export function readMergedRows(stmt: Statements, series: number, levelIndex: number, firstRow: number, end: number): Map<number, Float64Array> {
  const level = LEVELS[levelIndex]!;
  const merged = new Map<number, Float64Array>();
  const log = stmt.logIn.all(series, level.res, firstRow, end);
  const add = (row: number, stats: Float64Array) => {
    const into = merged.get(row);
    if (into) mergeRow(into, stats);
    // A copy: SQLite's buffer may be a view of memory it reuses.
    else merged.set(row, new Float64Array(stats));
  };
  if (log.length === 0) {
    for (const r of stmt.statsIn.all(series, level.res, firstRow, end)) add(r.row, float64View(r.stats));
    return merged;
  }
  // Per writer and row first: a record replaces that writer's slots, it does not add to them.
  const own = new Map<string, { row: number; stats: Float64Array }>();
  for (const r of stmt.statsIn.all(series, level.res, firstRow, end)) own.set(`${r.writer}:${r.row}`, { row: r.row, stats: new Float64Array(float64View(r.stats)) });
  for (const record of log) {
    const k = `${record.writer}:${record.row}`;
    let entry = own.get(k);
    if (!entry) own.set(k, (entry = { row: record.row, stats: new Float64Array(SLOTS * FIELDS) }));
    applyStats(entry.stats, record);
  }
  for (const { row, stats } of own.values()) add(row, stats);
  return merged;
}

/**
 * Every writer's sketches of a series at level `res` (1 or 60: the levels ingest sketches) for slots in
 * [from, to), with the writers' log records laid over them: each (writer, slot) once, as `each(t, sketch bytes or
 * sketch)`; the caller adds them up.
 */
export function readSketches(stmt: Statements, series: number, res: number, from: number, to: number, each: (t: number, sketch: Uint8Array | Sketch) => void): void {
  const span = res * SLOTS;
  const log = res <= 60 ? stmt.logIn.all(series, res, Math.floor(from / span) * span, to).filter((r) => r.sketches) : [];
  if (log.length === 0) {
    for (const s of stmt.sketchesIn.all(series, res, from, to)) each(s.t, s.data);
    return;
  }
  const byWriterSlot = new Map<string, { t: number; sketch: Uint8Array | Sketch }>();
  for (const s of stmt.sketchesIn.all(series, res, from, to)) byWriterSlot.set(`${s.writer}:${s.t}`, { t: s.t, sketch: s.data });
  for (const record of log) {
    recordSketches(record, (slot, sketch) => {
      const t = record.row + slot * res;
      if (t >= from && t < to) byWriterSlot.set(`${record.writer}:${t}`, { t, sketch });
    });
  }
  for (const { t, sketch } of byWriterSlot.values()) each(t, sketch);
}

/** This writer's row as stored (its whole row, then its log records), or an empty one. */
export function loadOwnRow(stmt: Statements, writer: number, series: number, levelIndex: number, start: number, used: number): Row {
  const level = LEVELS[levelIndex]!;
  const stored = stmt.ownRow.get(series, level.res, start, writer);
  const stats = stored ? new Float64Array(float64View(stored.stats)) : new Float64Array(SLOTS * FIELDS);
  const sketches = new Map<number, Sketch>();
  for (const s of stmt.ownSketches.all(series, level.res, start, start + level.span, writer)) sketches.set((s.t - start) / level.res, decodeSketch(s.data));
  const log: LogRecord[] = stmt.ownLog.all(series, level.res, start, writer);
  const loggedSketches: number[] = [];
  for (const record of log) {
    applyStats(stats, record);
    recordSketches(record, (slot, sketch) => {
      sketches.set(slot, sketch);
      loggedSketches.push(slot);
    });
  }
  const row = newRow(series, levelIndex, start, stats, sketches, used);
  // Its newest state is in the log: the next compaction writes it whole (sketches too) and drops the records.
  if (log.length > 0) row.pending = true;
  for (const slot of loggedSketches) row.dirtySketches.add(slot);
  return row;
}
