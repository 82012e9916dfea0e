import { CliUsageError } from './settings.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `90s`, `10m`, `1h30m`, `2d` → milliseconds; a refusal naming `flag` otherwise. Pure. */
export function parseDuration(value: string, flag: string): number {
  const re = /(\d+)(ms|[smhd])/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (value === '' || consumed !== value.length) throw new CliUsageError(`${flag}: '${value}' is not a duration (like 90s, 10m, 1h30m, 2d)`);
  return total;
}

/** Wait `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
