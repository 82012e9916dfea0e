import { invalidParameter } from '../model/errors.js';

/** The retention periods CloudWatch Logs accepts, in days. */
export const retentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export function validateRetentionDays(days: number): void {
  if (!(retentionDays as readonly number[]).includes(days)) {
    throw invalidParameter(
      `1 validation error detected: Value '${days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${retentionDays.join(', ')}]`,
    );
  }
}

const DAY_MS = 86_400_000;

/** Events older than this are past the group's retention (0 without a policy). */
export function retentionCutoff(days: number | null, now: number): number {
  return days === null ? 0 : Math.max(0, now - days * DAY_MS);
}
