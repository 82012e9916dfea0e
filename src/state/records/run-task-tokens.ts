import { recordParser } from './codec.js';

/**
 * What a RunTask with a `clientToken` did, kept for a day (ECS's idempotency window): a retry of the same call
 * with the same token — through this replica or another, after a timeout or a replica's death — returns these
 * tasks instead of launching more; the same token with other parameters is a ConflictException.
 */
export interface RunTaskTokenRecord {
  /** sha256 of the request's parameters without the token. */
  readonly fingerprint: string;
  readonly taskIds: readonly string[];
  readonly failures: readonly { readonly arn: string; readonly reason: string }[];
  /** Epoch ms after which the token is forgotten. */
  readonly expiresAt: number;
}

export const parseRunTaskTokenRecord = recordParser<RunTaskTokenRecord>('RunTask client token', {
  fingerprint: 'string',
  taskIds: 'array',
  failures: 'array',
  expiresAt: 'number',
});

/** How long a RunTask client token is remembered (ECS: 24 hours). */
export const RUN_TASK_TOKEN_TTL_MS = 24 * 60 * 60_000;
