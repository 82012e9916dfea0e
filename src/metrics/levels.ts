/**
 * The resolutions the store keeps, as CloudWatch retains them: raw data at 1 s for 3 hours, 1-minute aggregates for
 * 15 days, 5-minute for 63 days and 1-hour for 15 months (455 days). Every level is written at ingest (a datapoint
 * adds to the row of each level it falls in), so a roll-up is exact by construction and needs no watermark a late
 * datapoint (up to two weeks old) could fall behind; the leader's sweep only deletes what has aged out.
 *
 * A stored row holds {@link SLOTS} consecutive periods of its level: a minute of seconds, an hour of minutes,
 * five hours of 5-minute periods, 60 hours of hours. One row per series per span keeps a day of 1-minute data for
 * one series at 24 rows.
 */
export const SLOTS = 60;

export interface Level {
  /** Seconds per slot. */
  readonly res: number;
  /** Seconds per row: res × SLOTS. */
  readonly span: number;
  /** Seconds a slot is kept after its period ends. */
  readonly retention: number;
}

const DAY = 86_400;

export const LEVELS: readonly Level[] = [
  { res: 1, span: 60, retention: 3 * 3600 },
  { res: 60, span: 3600, retention: 15 * DAY },
  { res: 300, span: 18_000, retention: 63 * DAY },
  { res: 3600, span: 216_000, retention: 455 * DAY },
];

/** The coarsest level whose resolution divides `period`: exact for the period, and the fewest rows to read. */
export function levelFor(period: number): Level {
  for (let i = LEVELS.length - 1; i >= 0; i--) if (period % LEVELS[i]!.res === 0) return LEVELS[i]!;
  return LEVELS[0]!;
}
