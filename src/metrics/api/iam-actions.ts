/**
 * CloudWatch's metric actions, declared for the authorization step (Service Authorization Reference, "Actions,
 * resources, and condition keys for Amazon CloudWatch"): the metric actions have no resource types (`*`);
 * PutMetricData sets `cloudwatch:namespace`, which policies use to confine a publisher to its namespace.
 */
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../../api/authz/declarations.js';
import type { ArnScope } from '../../model/arn.js';

type Input = Record<string, unknown>;
const alarm = (scope: ArnScope, name: unknown) => `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${String(name)}`;
const tagContext = (input: Input, _scope: ArnScope, into: Map<string, string | readonly string[]>) => {
  if (Array.isArray(input.Tags)) addTagList(into, input.Tags as { Key?: string; Value?: string }[]);
  if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
};
/** An alarm action on the alarm named in `AlarmName`, or on each of `AlarmNames`. */
const onAlarms = (action: string): ActionDeclaration<Input> => ({
  action,
  resources: (input, scope) => {
    if (typeof input.AlarmName === 'string') return [alarm(scope, input.AlarmName)];
    return Array.isArray(input.AlarmNames) ? (input.AlarmNames as unknown[]).map((n) => alarm(scope, n)) : [];
  },
  context: tagContext,
});
/** The tag actions, on the ARN they name. */
const onArn = (action: string): ActionDeclaration<Input> => ({
  action,
  resources: (input) => (typeof input.ResourceARN === 'string' ? [input.ResourceARN] : []),
  context: tagContext,
});

export const cloudwatchActions: ActionTable = {
  PutMetricData: {
    action: 'cloudwatch:PutMetricData',
    resources: () => [],
    context: (input: { Namespace?: string }, _scope, into) => {
      if (typeof input.Namespace === 'string') into.set('cloudwatch:namespace', input.Namespace);
    },
  },
  GetMetricData: anyResource('cloudwatch:GetMetricData'),
  GetMetricStatistics: anyResource('cloudwatch:GetMetricStatistics'),
  ListMetrics: anyResource('cloudwatch:ListMetrics'),
  // Alarms: each on the alarm's ARN; the Describe* actions on `*` (as the Service Authorization Reference has them).
  PutMetricAlarm: onAlarms('cloudwatch:PutMetricAlarm'),
  DeleteAlarms: onAlarms('cloudwatch:DeleteAlarms'),
  SetAlarmState: onAlarms('cloudwatch:SetAlarmState'),
  EnableAlarmActions: onAlarms('cloudwatch:EnableAlarmActions'),
  DisableAlarmActions: onAlarms('cloudwatch:DisableAlarmActions'),
  DescribeAlarmHistory: onAlarms('cloudwatch:DescribeAlarmHistory'),
  DescribeAlarms: anyResource('cloudwatch:DescribeAlarms'),
  DescribeAlarmsForMetric: anyResource('cloudwatch:DescribeAlarmsForMetric'),
  TagResource: onArn('cloudwatch:TagResource'),
  UntagResource: onArn('cloudwatch:UntagResource'),
  ListTagsForResource: onArn('cloudwatch:ListTagsForResource'),
};
