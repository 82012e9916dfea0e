import type {
  CreateLogGroupRequest,
  DeleteLogGroupRequest,
  DeleteRetentionPolicyRequest,
  DescribeLogGroupsRequest,
  LogGroup,
  PutRetentionPolicyRequest,
} from '@aws-sdk/client-cloudwatch-logs';
import { invalidParameter, ServiceError } from '../model/errors.js';
import type { LogsEnv } from './env.js';
import { groupNameFromIdentifier, groupNamed, groupNotFound, logGroupArn } from './resolve.js';
import { validateRetentionDays } from './retention.js';
import type { GroupRecord } from './storage/records.js';
import { decodeListToken, encodeListToken } from './tokens.js';

async function describeGroup(env: LogsEnv, g: GroupRecord): Promise<LogGroup> {
  const arn = logGroupArn(env, g.name);
  return {
    logGroupName: g.name,
    creationTime: g.createdMs,
    ...(g.retentionDays !== null ? { retentionInDays: g.retentionDays } : {}),
    metricFilterCount: 0,
    arn: `${arn}:*`,
    logGroupArn: arn,
    storedBytes: await env.storage.groups.storedBytes(g),
    logGroupClass: g.logGroupClass as LogGroup['logGroupClass'],
  };
}

const isAfterName = (s: unknown): s is { after: string } => typeof (s as { after?: unknown })?.after === 'string';

/** Log groups: create, delete, describe, and their retention policies. */
export function logGroupOperations(env: LogsEnv) {
  const describe = (groups: readonly GroupRecord[]) => Promise.all(groups.map((g) => describeGroup(env, g)));
  return {
    async CreateLogGroup(input: CreateLogGroupRequest) {
      const name = input.logGroupName!;
      if (name.startsWith('aws/')) throw invalidParameter("Log group names starting with 'aws/' are reserved.");
      if (input.kmsKeyId !== undefined) throw invalidParameter('berth does not encrypt log groups with KMS keys; omit kmsKeyId.');
      if (input.deletionProtectionEnabled) throw invalidParameter('berth does not implement deletion protection for log groups.');
      const created = await env.storage.groups.create(name, env.now(), input.logGroupClass ?? 'STANDARD', input.tags ?? {});
      if (!created) throw new ServiceError('ResourceAlreadyExistsException', 'The specified log group already exists');
      return {};
    },

    async DeleteLogGroup(input: DeleteLogGroupRequest) {
      const group = await groupNamed(env, input.logGroupName!);
      // Streams and the group go now; their events become unreachable at once and are purged by the sweep.
      if (!(await env.storage.groups.delete(group, env.now()))) throw groupNotFound();
      return {};
    },

    async DescribeLogGroups(input: DescribeLogGroupsRequest) {
      const byIdentifier = input.logGroupIdentifiers !== undefined;
      if ((input.logGroupNamePrefix !== undefined ? 1 : 0) + (input.logGroupNamePattern !== undefined ? 1 : 0) + (byIdentifier ? 1 : 0) > 1) {
        throw invalidParameter('logGroupNamePrefix, logGroupNamePattern and logGroupIdentifiers are mutually exclusive.');
      }
      // Only this account's groups exist here; asking for other accounts only finds nothing.
      if (input.accountIdentifiers?.length && !input.accountIdentifiers.includes(env.scope.accountId)) return { logGroups: [] };
      if (byIdentifier) {
        const names = input.logGroupIdentifiers!.flatMap((id) => groupNameFromIdentifier(env, id) ?? []);
        const groups = (await Promise.all(names.map((name) => env.storage.groups.get(name))))
          .filter((g): g is GroupRecord => g !== undefined && (!input.logGroupClass || g.logGroupClass === input.logGroupClass))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return { logGroups: await describe(groups) };
      }
      const limit = input.limit ?? 50;
      const after = input.nextToken === undefined ? undefined : decodeListToken('groups', input.nextToken, isAfterName).after;
      const rows = await env.storage.groups.list({
        prefix: input.logGroupNamePrefix,
        pattern: input.logGroupNamePattern,
        logGroupClass: input.logGroupClass,
        after,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      return {
        logGroups: await describe(page),
        ...(rows.length > limit ? { nextToken: encodeListToken('groups', { after: page.at(-1)!.name }) } : {}),
      };
    },

    async PutRetentionPolicy(input: PutRetentionPolicyRequest) {
      validateRetentionDays(input.retentionInDays!);
      const group = await groupNamed(env, input.logGroupName!);
      if (!(await env.storage.groups.setRetention(group, input.retentionInDays!))) throw groupNotFound();
      return {};
    },

    async DeleteRetentionPolicy(input: DeleteRetentionPolicyRequest) {
      const group = await groupNamed(env, input.logGroupName!);
      if (!(await env.storage.groups.setRetention(group, null))) throw groupNotFound();
      return {};
    },
  };
}
