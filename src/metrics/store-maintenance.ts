import type Database from 'better-sqlite3';
import { FIELDS } from './aggregate.js';
import { LEVELS, SLOTS } from './levels.js';
import { decodeSketch, encodeSketch, float64View, type Sketch } from './sketch.js';
import { applyStats, recordSketches } from './slot-log.js';
import type { Statements } from './store-schema.js';
import { statsBytes } from './writer-row.js';

/**
 * The leader's work on the metric store's file (metric-sweep.ts runs it every 10 minutes): fold every writer's
 * slot log into its rows, roll minute sketches up, delete what has aged out.
 */

/** Minute sketches this old can receive no more datapoints (PutMetricData's two weeks, and an hour to spare). */
const SETTLED_AFTER_S = 14 * 86_400 + 3600;
/** The writer id of rolled-up sketches (processes' ids are never 0). */
const ROLLED_WRITER = 0;

/**
 * Writes every log record so far into its writer's rows and sketches and deletes the records, in one transaction.
 * A live writer compacts its own log every few commits; this folds what a writer left behind (a process killed or
 * stopped between compactions, or idle since). Safe while that writer lives: a record holds slots as they were
 * committed, the writer's own next compaction rewrites its rows from memory, which holds at least that.
 */
export function foldLogs(db: Database.Database, stmt: Statements): number {
  let folded = 0;
  db.transaction(() => {
    const upTo = stmt.lastLogSeq.get();
    if (upTo === null || upTo === undefined) return;
    const rows = new Map<string, { series: number; res: number; row: number; writer: number; stats: Float64Array; sketches: Map<number, Sketch> }>();
    for (const record of stmt.logUpTo.all(upTo)) {
      const k = `${record.series}:${record.res}:${record.row}:${record.writer}`;
      let entry = rows.get(k);
      if (!entry) {
        const stored = stmt.ownRow.get(record.series, record.res, record.row, record.writer);
        const stats = stored ? new Float64Array(float64View(stored.stats)) : new Float64Array(SLOTS * FIELDS);
        rows.set(k, (entry = { series: record.series, res: record.res, row: record.row, writer: record.writer, stats, sketches: new Map() }));
      }
      applyStats(entry.stats, record);
      const into = entry.sketches;
      recordSketches(record, (slot, sketch) => into.set(slot, sketch));
      folded++;
    }
    for (const e of rows.values()) {
      stmt.upsertRow.run(e.series, e.res, e.row, e.writer, statsBytes(e.stats));
      for (const [slot, sketch] of e.sketches) stmt.upsertSketch.run(e.series, e.res, e.row + slot * e.res, e.writer, encodeSketch(sketch));
    }
    stmt.dropLogUpTo.run(upTo);
  })();
  return folded;
}

/**
 * Rolls the minute sketches of settled time (older than PutMetricData accepts, plus an hour) up into 5-minute and
 * hour sketches, from where the last roll-up stopped; the leader's sweep runs it before minute data ages out
 * (15 days, against two weeks of accepted lateness). Idempotent: a slot rolled twice is written the same.
 */
export function rollUp(db: Database.Database, stmt: Statements, nowS: number): number {
  const settled = nowS - SETTLED_AFTER_S;
  let written = 0;
  db.transaction(() => {
    for (const level of LEVELS) {
      if (level.res <= 60) continue;
      const to = Math.floor(settled / level.res) * level.res;
      // Nothing older than the minute level keeps is left to roll.
      const oldest = Math.floor((nowS - LEVELS[1]!.retention - LEVELS[1]!.span) / level.res) * level.res;
      const from = Math.max(stmt.rolledUntil.get(level.res)?.until ?? oldest, oldest);
      if (to <= from) continue;
      let current: { series: number; t: number; sketch: Sketch } | undefined;
      const write = () => {
        if (current) stmt.upsertSketch.run(current.series, level.res, current.t, ROLLED_WRITER, encodeSketch(current.sketch));
        if (current) written++;
      };
      // An hour at a time: the writes cannot interleave with an open read, and memory stays bounded.
      for (let window = from; window < to; window += 3600) {
        for (const s of stmt.minuteSketches.all(window, Math.min(window + 3600, to))) {
          const t = Math.floor(s.t / level.res) * level.res;
          if (!current || current.series !== s.series || current.t !== t) {
            write();
            current = { series: s.series, t, sketch: new Map() };
          }
          decodeSketch(s.data, current.sketch);
        }
        write();
        current = undefined;
      }
      stmt.setRolledUntil.run(level.res, to);
    }
  })();
  return written;
}

/** Deletes what every level no longer retains (rows, log records, sketches), and series with no data left that nobody put for 15 months. */
export function deleteAged(db: Database.Database, stmt: Statements, nowS: number): { rows: number; series: number } {
  let rows = 0;
  let series = 0;
  db.transaction(() => {
    for (const level of LEVELS) {
      const before = nowS - level.retention - level.span;
      rows += stmt.sweepLevel.run(level.res, before).changes;
      stmt.sweepLog.run(level.res, before);
      stmt.sweepSketches.run(level.res, before);
    }
    series = stmt.sweepSeries.run(nowS - LEVELS[LEVELS.length - 1]!.retention).changes;
  })();
  return { rows, series };
}
