/**
 * Task scale-in protection, pure: how long a protection lasts and whether it still holds.
 *
 *   unprotected ──UpdateTaskProtection(true, n min)──▶ protected until now + n min
 *   protected ──UpdateTaskProtection(true, m min)──▶ protected until now + m min (always reset, as ECS does)
 *   protected ──UpdateTaskProtection(false) │ the expiry passes──▶ unprotected
 *
 * Expiry is not a write: a protection whose time has passed simply no longer holds, so every reader (the
 * API, the service controller) decides with its own clock and no timer has to clear anything.
 */
import { invalidParameter } from './errors.js';

/** ECS's default protection period: 2 hours. */
export const DEFAULT_PROTECTION_MINUTES = 120;
/** ECS's bounds on expiresInMinutes: 1 minute to 48 hours. */
export const MIN_PROTECTION_MINUTES = 1;
export const MAX_PROTECTION_MINUTES = 2880;
/** UpdateTaskProtection and GetTaskProtection take at most this many tasks. */
export const MAX_PROTECTION_TASKS = 10;

/** A task's protection as its record keeps it: present while enabled, until `expiresAt` (epoch ms). */
export interface TaskProtection {
  readonly expiresAt: number;
}

/** The protection period a request asks for, checked (InvalidParameterException naming the field). */
export function protectionMinutes(expiresInMinutes: number | undefined): number {
  if (expiresInMinutes === undefined) return DEFAULT_PROTECTION_MINUTES;
  if (!Number.isInteger(expiresInMinutes) || expiresInMinutes < MIN_PROTECTION_MINUTES || expiresInMinutes > MAX_PROTECTION_MINUTES) {
    throw invalidParameter(
      `expiresInMinutes: the protection period must be a whole number of minutes from ${MIN_PROTECTION_MINUTES} to ${MAX_PROTECTION_MINUTES}, not ${expiresInMinutes}.`,
    );
  }
  return expiresInMinutes;
}

/** Whether the protection holds at `nowMs`. */
export function isProtected(protection: TaskProtection | undefined, nowMs: number): protection is TaskProtection {
  return protection !== undefined && nowMs < protection.expiresAt;
}

/** The ProtectedTask shape ECS answers with: an expirationDate (epoch seconds) only while protected. */
export function protectedTaskOf(taskArn: string, protection: TaskProtection | undefined, nowMs: number) {
  return isProtected(protection, nowMs)
    ? { taskArn, protectionEnabled: true, expirationDate: protection.expiresAt / 1000 }
    : { taskArn, protectionEnabled: false };
}
