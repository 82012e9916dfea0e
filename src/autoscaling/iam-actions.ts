/**
 * Application Auto Scaling's actions, declared for the authorization step (Service Authorization Reference,
 * "Actions, resources, and condition keys for Application Auto Scaling"). Requests name a resource id
 * (`service/<cluster>/<name>`), not the scalable target's ARN, so berth declares the target, policy, scheduled-action
 * and activity actions on `*`; the tag actions act on the ARN they name, with aws:RequestTag/… and aws:TagKeys.
 */
import { addTagKeys, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';

type Input = Record<string, unknown>;
const any = (op: string) => anyResource(`application-autoscaling:${op}`);
const onArn = (op: string): ActionDeclaration<Input> => ({
  action: `application-autoscaling:${op}`,
  resources: (input) => (typeof input.ResourceARN === 'string' ? [input.ResourceARN] : []),
  context: (input, _scope, into) => {
    if (input.Tags && typeof input.Tags === 'object') {
      for (const [k, v] of Object.entries(input.Tags as Record<string, unknown>)) into.set(`aws:RequestTag/${k}`, String(v));
      addTagKeys(into, Object.keys(input.Tags as object));
    }
    if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
  },
});

export const autoScalingActions: ActionTable = {
  RegisterScalableTarget: any('RegisterScalableTarget'),
  DescribeScalableTargets: any('DescribeScalableTargets'),
  DeregisterScalableTarget: any('DeregisterScalableTarget'),
  PutScalingPolicy: any('PutScalingPolicy'),
  DescribeScalingPolicies: any('DescribeScalingPolicies'),
  DeleteScalingPolicy: any('DeleteScalingPolicy'),
  PutScheduledAction: any('PutScheduledAction'),
  DescribeScheduledActions: any('DescribeScheduledActions'),
  DeleteScheduledAction: any('DeleteScheduledAction'),
  DescribeScalingActivities: any('DescribeScalingActivities'),
  TagResource: onArn('TagResource'),
  UntagResource: onArn('UntagResource'),
  ListTagsForResource: onArn('ListTagsForResource'),
};
