/**
 * The CloudWatch Logs API's IAM declarations, after the Service Authorization Reference ("Actions, resources,
 * and condition keys for Amazon CloudWatch Logs"). Stream actions (CreateLogStream, DeleteLogStream,
 * PutLogEvents, GetLogEvents) are on `log-group:<group>:log-stream:<stream>`; group actions on
 * `log-group:<group>:*`, the ARN CloudWatch Logs itself reports for a group (DescribeLogGroups' `arn`), which
 * the policies people write (`log-group:/ecs/app:*`, `log-group:/ecs/*`) match; DescribeLogGroups and
 * CreateLogGroup's tags as AWS has them.
 */
import type { ArnScope } from '../model/arn.js';
import { addTagMap, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';

interface GroupRequest {
  readonly logGroupName?: string;
  readonly logGroupIdentifier?: string;
}

const groupBase = (scope: ArnScope, name: string) => `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${name}`;

/** The group an identifier names: a name, or an ARN with or without its trailing `:*`. */
function groupName(scope: ArnScope, input: GroupRequest): string | undefined {
  if (input.logGroupName !== undefined) return input.logGroupName;
  const id = input.logGroupIdentifier;
  if (id === undefined || !id.startsWith('arn:')) return id;
  const prefix = groupBase(scope, '');
  return id.startsWith(prefix) ? id.slice(prefix.length).replace(/:\*$/, '') : undefined;
}

const onGroup = (action: string): ActionDeclaration<GroupRequest> => ({
  action,
  resources: (input, scope) => {
    const name = groupName(scope, input);
    // A foreign ARN is authorized as given (the operation then finds nothing).
    if (name === undefined) return input.logGroupIdentifier ? [input.logGroupIdentifier] : [];
    return [`${groupBase(scope, name)}:*`];
  },
});

const onStream = (action: string): ActionDeclaration<GroupRequest & { logStreamName: string }> => ({
  action,
  resources: (input, scope) => {
    const name = groupName(scope, input);
    if (name === undefined) return input.logGroupIdentifier ? [input.logGroupIdentifier] : [];
    return [`${groupBase(scope, name)}:log-stream:${input.logStreamName}`];
  },
});

/** Every CloudWatch Logs action berth serves, by operation name. */
export const logsActions: ActionTable = {
  CreateLogGroup: {
    action: 'logs:CreateLogGroup',
    resources: (input: { logGroupName: string }, scope) => [`${groupBase(scope, input.logGroupName)}:*`],
    context: (input: { tags?: Record<string, string> }, _scope, into) => addTagMap(into, input.tags),
  },
  DeleteLogGroup: onGroup('logs:DeleteLogGroup'),
  DescribeLogGroups: anyResource('logs:DescribeLogGroups'),
  PutRetentionPolicy: onGroup('logs:PutRetentionPolicy'),
  DeleteRetentionPolicy: onGroup('logs:DeleteRetentionPolicy'),
  DescribeLogStreams: onGroup('logs:DescribeLogStreams'),
  FilterLogEvents: onGroup('logs:FilterLogEvents'),
  CreateLogStream: onStream('logs:CreateLogStream'),
  DeleteLogStream: onStream('logs:DeleteLogStream'),
  PutLogEvents: onStream('logs:PutLogEvents'),
  GetLogEvents: onStream('logs:GetLogEvents'),
};
