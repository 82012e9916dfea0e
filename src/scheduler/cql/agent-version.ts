/**
 * Agent versions compare part by part as numbers (1.14.5 < 1.100.0, which string order gets wrong); a missing
 * part counts as 0, so 1.14 == 1.14.0.
 */
export type Version = readonly number[];

const VERSION = /^v?(\d+(?:\.\d+)*)/;

/**
 * The numeric parts of a version as written in an expression (`1.14.5`); undefined when it is not one.
 * Strict: the whole text must be dotted numbers.
 */
export function parseVersionArgument(text: string): Version | undefined {
  return /^\d+(?:\.\d+)*$/.test(text) ? text.split('.').map(Number) : undefined;
}

/**
 * The numeric parts at the start of an agent's reported version (`1.14.5`, `v1.14.5`, `1.14.5-berth`);
 * undefined when it has none, and then no ordering comparison holds.
 */
export function parseAgentVersion(text: string | undefined): Version | undefined {
  const m = text === undefined ? null : VERSION.exec(text.trim());
  return m ? m[1]!.split('.').map(Number) : undefined;
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareVersions(a: Version, b: Version): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
