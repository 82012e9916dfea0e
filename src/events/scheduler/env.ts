import type { ArnScope } from '../../model/arn.js';
import { ServiceError } from '../../model/errors.js';

export const DEFAULT_GROUP = 'default';
/** Schedule groups per account, as EventBridge Scheduler's quota sets them. */
export const MAX_GROUPS = 500;

export const validation = (message: string) => new ServiceError('ValidationException', message);
export const notFound = (message: string) => new ServiceError('ResourceNotFoundException', message);
export const quotaExceeded = (message: string) => new ServiceError('ServiceQuotaExceededException', message);
export const conflict = (message: string) => new ServiceError('ConflictException', message);
export const scheduleNotFound = (group: string, name: string) => notFound(`Schedule ${name} does not exist in schedule group ${group}.`);
export const groupNotFound = (name: string) => notFound(`Schedule group ${name} does not exist.`);

export const groupArn = (scope: ArnScope, name: string) => `arn:aws:scheduler:${scope.region}:${scope.accountId}:schedule-group/${name}`;
export const scheduleArn = (scope: ArnScope, group: string, name: string) => `arn:aws:scheduler:${scope.region}:${scope.accountId}:schedule/${group}/${name}`;

/** Epoch ms as the wire's timestamps (epoch seconds). */
export const seconds = (ms: number) => ms / 1000;
