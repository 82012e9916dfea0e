/** Small pure helpers for what the pages print. */

/** The last part of an ARN (`…:task/default/abc` → `abc`); a name as it is. */
export function shortId(arn: string | undefined): string {
  if (!arn) return '';
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** `…:task-definition/web:3` → `web:3`. */
export function taskDefinitionName(arn: string | undefined): string {
  return shortId(arn);
}

/** How long ago, in the largest whole unit: `42s`, `5m`, `3h`, `2d`. */
export function age(when: Date | undefined, now = Date.now()): string {
  if (!when) return '';
  const s = Math.max(0, Math.round((now - when.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function timestamp(when: Date | undefined): string {
  return when ? when.toLocaleString() : '';
}

/** Split a list into lists of at most `size` (Describe calls take 10 or 100 names at a time). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Reserved out of registered, as a whole percentage between 0 and 100. */
export function percent(used: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(100, Math.max(0, Math.round((used / total) * 100)));
}

export interface Resource {
  readonly name?: string | undefined;
  readonly integerValue?: number | undefined;
}

/** An instance's CPU or MEMORY figure from its registered or remaining resources. */
export function resourceValue(resources: readonly Resource[] | undefined, name: 'CPU' | 'MEMORY'): number {
  return resources?.find((r) => r.name === name)?.integerValue ?? 0;
}
