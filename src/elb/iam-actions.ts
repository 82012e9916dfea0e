/**
 * Elastic Load Balancing's actions, declared for the authorization step (Service Authorization Reference,
 * "Actions, resources, and condition keys for Elastic Load Balancing V2"): each on the load balancer, target
 * group, listener or rule ARN the request names; a create on the ARN the new resource will have (its id is not
 * known yet: `…/<name>/*`); every Describe* on `*`, as AWS has them. Tags on creates and the tag actions set
 * aws:RequestTag/… and aws:TagKeys.
 */
import type { ArnScope } from '../model/arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';

type Input = Record<string, unknown>;
const base = (scope: ArnScope) => `arn:aws:elasticloadbalancing:${scope.region}:${scope.accountId}`;

const tagContext = (input: Input, _scope: ArnScope, into: Map<string, string | readonly string[]>) => {
  if (Array.isArray(input.Tags)) addTagList(into, input.Tags as { Key?: string; Value?: string }[]);
  if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
};

/** An action on the ARN(s) in `field` (a string or a list of strings). */
const on = (op: string, field: string): ActionDeclaration<Input> => ({
  action: `elasticloadbalancing:${op}`,
  resources: (input) => {
    const v = input[field];
    return typeof v === 'string' ? [v] : Array.isArray(v) ? (v as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  },
  context: tagContext,
});

const describe = (op: string) => anyResource(`elasticloadbalancing:${op}`);

/** Every ELBv2 action berth serves, by operation name. */
export const elbActions: ActionTable = {
  CreateLoadBalancer: {
    action: 'elasticloadbalancing:CreateLoadBalancer',
    resources: (input: Input, scope) => [`${base(scope)}:loadbalancer/${input.Type === 'network' ? 'net' : 'app'}/${String(input.Name)}/*`],
    context: tagContext,
  },
  CreateTargetGroup: {
    action: 'elasticloadbalancing:CreateTargetGroup',
    resources: (input: Input, scope) => [`${base(scope)}:targetgroup/${String(input.Name)}/*`],
    context: tagContext,
  },
  DeleteLoadBalancer: on('DeleteLoadBalancer', 'LoadBalancerArn'),
  ModifyLoadBalancerAttributes: on('ModifyLoadBalancerAttributes', 'LoadBalancerArn'),
  CreateListener: on('CreateListener', 'LoadBalancerArn'),
  ModifyListener: on('ModifyListener', 'ListenerArn'),
  DeleteListener: on('DeleteListener', 'ListenerArn'),
  CreateRule: on('CreateRule', 'ListenerArn'),
  ModifyRule: on('ModifyRule', 'RuleArn'),
  DeleteRule: on('DeleteRule', 'RuleArn'),
  SetRulePriorities: {
    action: 'elasticloadbalancing:SetRulePriorities',
    resources: (input: Input) => ((input.RulePriorities as { RuleArn?: string }[] | undefined) ?? []).flatMap((p) => (p.RuleArn ? [p.RuleArn] : [])),
  },
  ModifyTargetGroup: on('ModifyTargetGroup', 'TargetGroupArn'),
  ModifyTargetGroupAttributes: on('ModifyTargetGroupAttributes', 'TargetGroupArn'),
  DeleteTargetGroup: on('DeleteTargetGroup', 'TargetGroupArn'),
  RegisterTargets: on('RegisterTargets', 'TargetGroupArn'),
  DeregisterTargets: on('DeregisterTargets', 'TargetGroupArn'),
  AddTags: on('AddTags', 'ResourceArns'),
  RemoveTags: on('RemoveTags', 'ResourceArns'),
  DescribeLoadBalancers: describe('DescribeLoadBalancers'),
  DescribeLoadBalancerAttributes: describe('DescribeLoadBalancerAttributes'),
  DescribeTargetGroups: describe('DescribeTargetGroups'),
  DescribeTargetGroupAttributes: describe('DescribeTargetGroupAttributes'),
  DescribeTargetHealth: describe('DescribeTargetHealth'),
  DescribeListeners: describe('DescribeListeners'),
  DescribeRules: describe('DescribeRules'),
  DescribeTags: describe('DescribeTags'),
};
