/**
 * EC2 Auto Scaling's actions berth serves, declared for the authorization step (Service Authorization Reference,
 * "Actions, resources, and condition keys for Amazon EC2 Auto Scaling"): actions on a group name its ARN with the
 * group's id as `*` (`…:autoScalingGroup:*:autoScalingGroupName/<name>`), launch configurations likewise; Describe*
 * and TerminateInstanceInAutoScalingGroup (which names an instance, not its group) on `*`. Tags on a create set
 * aws:RequestTag/… and aws:TagKeys.
 */
import type { ArnScope } from '../model/arn.js';
import { addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';

type Input = Record<string, unknown>;
const base = (scope: ArnScope) => `arn:aws:autoscaling:${scope.region}:${scope.accountId}`;

const onGroup = (op: string): ActionDeclaration<Input> => ({
  action: `autoscaling:${op}`,
  resources: (input, scope) => [`${base(scope)}:autoScalingGroup:*:autoScalingGroupName/${String(input.AutoScalingGroupName)}`],
  context: (input, _scope, into) => {
    if (Array.isArray(input.Tags)) addTagList(into, input.Tags as { Key?: string; Value?: string }[]);
  },
});

const onLaunchConfiguration = (op: string): ActionDeclaration<Input> => ({
  action: `autoscaling:${op}`,
  resources: (input, scope) => [`${base(scope)}:launchConfiguration:*:launchConfigurationName/${String(input.LaunchConfigurationName)}`],
});

const any = (op: string) => anyResource(`autoscaling:${op}`);

export const hostGroupActions: ActionTable = {
  CreateLaunchConfiguration: onLaunchConfiguration('CreateLaunchConfiguration'),
  DeleteLaunchConfiguration: onLaunchConfiguration('DeleteLaunchConfiguration'),
  DescribeLaunchConfigurations: any('DescribeLaunchConfigurations'),
  CreateAutoScalingGroup: onGroup('CreateAutoScalingGroup'),
  UpdateAutoScalingGroup: onGroup('UpdateAutoScalingGroup'),
  SetDesiredCapacity: onGroup('SetDesiredCapacity'),
  SetInstanceProtection: onGroup('SetInstanceProtection'),
  DeleteAutoScalingGroup: onGroup('DeleteAutoScalingGroup'),
  DescribeAutoScalingGroups: any('DescribeAutoScalingGroups'),
  DescribeAutoScalingInstances: any('DescribeAutoScalingInstances'),
  DescribeScalingActivities: any('DescribeScalingActivities'),
  TerminateInstanceInAutoScalingGroup: any('TerminateInstanceInAutoScalingGroup'),
};
