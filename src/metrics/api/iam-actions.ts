/**
 * CloudWatch's metric actions, declared for the authorization step (Service Authorization Reference, "Actions,
 * resources, and condition keys for Amazon CloudWatch"): the metric actions have no resource types (`*`);
 * PutMetricData sets `cloudwatch:namespace`, which policies use to confine a publisher to its namespace.
 */
import { anyResource, type ActionTable } from '../../api/authz/declarations.js';

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
};
