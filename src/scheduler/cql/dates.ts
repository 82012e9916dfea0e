/**
 * registeredAt arguments. ECS documents four forms: 2018-06-18T22:28:28+00:00, 2018-06-18T22:28:28Z,
 * 2018-06-18T22:28:28 and 2018-06-18; without a zone the time is UTC.
 *
 * An argument names a span, not an instant: a date is its whole UTC day, a timestamp its second. Comparisons
 * read naturally from that: `registeredAt == 2018-02-13` holds for any time that day, `< 2018-02-13` means
 * before the day began, `<= 2018-02-13` before it ended, `> 2018-02-13` after it ended.
 */
export interface TimeSpan {
  /** Epoch seconds, inclusive. */
  readonly start: number;
  /** Epoch seconds, exclusive. */
  readonly end: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:?\d{2})?$/;
const DAY = 86_400;

/** The span a registeredAt argument names, or undefined when it is not one of the documented forms. */
export function parseTimeSpan(text: string): TimeSpan | undefined {
  const date = DATE.exec(text);
  if (date) {
    const start = utcSeconds(+date[1]!, +date[2]!, +date[3]!, 0, 0, 0);
    return start === undefined ? undefined : { start, end: start + DAY };
  }
  const ts = TIMESTAMP.exec(text);
  if (!ts) return undefined;
  const local = utcSeconds(+ts[1]!, +ts[2]!, +ts[3]!, +ts[4]!, +ts[5]!, +ts[6]!);
  const zone = zoneOffsetSeconds(ts[7]);
  if (local === undefined || zone === undefined) return undefined;
  const start = local - zone;
  return { start, end: start + 1 };
}

/** Epoch seconds of a UTC calendar time; undefined for impossible dates (2018-02-30, 25:00). */
function utcSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2018-02-30 over into March; catch that by reading the day back.
  if (new Date(ms).getUTCDate() !== d) return undefined;
  return ms / 1000;
}

function zoneOffsetSeconds(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = +digits.slice(0, 2);
  const minutes = +digits.slice(2);
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 3600 + minutes * 60);
}
