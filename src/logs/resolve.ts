import { invalidParameter, ServiceError } from '../model/errors.js';
import type { LogsEnv } from './env.js';
import type { GroupRecord, StreamRecord } from './storage/records.js';

/** `arn:aws:logs:<region>:<account>:log-group:<name>` (DescribeLogGroups adds `:*` for `arn`). */
export function logGroupArn(env: LogsEnv, name: string): string {
  return `arn:aws:logs:${env.scope.region}:${env.scope.accountId}:log-group:${name}`;
}

export function logStreamArn(env: LogsEnv, group: string, stream: string): string {
  return `${logGroupArn(env, group)}:log-stream:${stream}`;
}

/**
 * A group name from a logGroupIdentifier: the name itself, or this account's and region's log-group ARN
 * (with or without the trailing `:*`). A foreign ARN names nothing here.
 */
export function groupNameFromIdentifier(env: LogsEnv, identifier: string): string | undefined {
  if (!identifier.startsWith('arn:')) return identifier;
  const prefix = logGroupArn(env, '');
  if (!identifier.startsWith(prefix)) return undefined;
  const name = identifier.slice(prefix.length).replace(/:\*$/, '');
  return name === '' || name.includes(':') ? undefined : name;
}

export const groupNotFound = () => new ServiceError('ResourceNotFoundException', 'The specified log group does not exist.');
export const streamNotFound = () => new ServiceError('ResourceNotFoundException', 'The specified log stream does not exist.');

/** The group an operation names with logGroupName or logGroupIdentifier (exactly one of them). */
export async function groupOf(
  env: LogsEnv,
  input: { logGroupName?: string | undefined; logGroupIdentifier?: string | undefined },
): Promise<GroupRecord> {
  if ((input.logGroupName === undefined) === (input.logGroupIdentifier === undefined)) {
    throw invalidParameter('Either logGroupName or logGroupIdentifier must be specified, but not both.');
  }
  const name = input.logGroupName ?? groupNameFromIdentifier(env, input.logGroupIdentifier!);
  const group = name === undefined ? undefined : await env.storage.groups.get(name);
  if (!group) throw groupNotFound();
  return group;
}

/** A group by its name (ResourceNotFoundException when there is none). */
export async function groupNamed(env: LogsEnv, name: string): Promise<GroupRecord> {
  const group = await env.storage.groups.get(name);
  if (!group) throw groupNotFound();
  return group;
}

export async function streamOf(env: LogsEnv, group: GroupRecord, name: string): Promise<StreamRecord> {
  const stream = await env.storage.streams.get(group.id, name);
  if (!stream) throw streamNotFound();
  return stream;
}

/** Sequence tokens are accepted and ignored (as CloudWatch Logs does today); this one counts uploads. */
export const sequenceToken = (uploads: number) => String(uploads + 1).padStart(56, '0');
