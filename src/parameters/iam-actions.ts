/**
 * SSM Parameter Store's IAM declarations (Service Authorization Reference, "Actions, resources, and condition
 * keys for AWS Systems Manager"): each parameter action on `parameter/<name without its leading slash>` (a
 * selector such as `:3` or `:label` is not part of it; an ARN as given), GetParametersByPath on the path's ARN,
 * DescribeParameters on `*`; tags as aws:RequestTag/… and aws:TagKeys.
 */
import type { ArnScope } from '../model/arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';
import { parameterArn, parseSelector } from './parameter-names.js';

const arnOf = (scope: ArnScope, reference: string) => {
  const { name } = parseSelector(reference);
  return name.startsWith('arn:') ? name : parameterArn(scope, name);
};

const one = (action: string, field: string): ActionDeclaration<Record<string, string>> => ({
  action,
  resources: (input, scope) => (typeof input[field] === 'string' ? [arnOf(scope, input[field])] : []),
});

const each = (action: string): ActionDeclaration<{ Names?: string[] }> => ({
  action,
  resources: (input, scope) => (input.Names ?? []).map((n) => arnOf(scope, n)),
});

/** Every SSM action berth serves, by operation name. */
export const ssmActions: ActionTable = {
  PutParameter: {
    action: 'ssm:PutParameter',
    resources: (input: { Name: string }, scope) => [arnOf(scope, input.Name)],
    context: (input: { Tags?: { Key?: string; Value?: string }[] }, _scope, into) => addTagList(into, input.Tags),
  },
  GetParameter: one('ssm:GetParameter', 'Name'),
  GetParameterHistory: one('ssm:GetParameterHistory', 'Name'),
  DeleteParameter: one('ssm:DeleteParameter', 'Name'),
  LabelParameterVersion: one('ssm:LabelParameterVersion', 'Name'),
  UnlabelParameterVersion: one('ssm:UnlabelParameterVersion', 'Name'),
  GetParameters: each('ssm:GetParameters'),
  DeleteParameters: each('ssm:DeleteParameters'),
  GetParametersByPath: one('ssm:GetParametersByPath', 'Path'),
  DescribeParameters: anyResource('ssm:DescribeParameters'),
  AddTagsToResource: {
    action: 'ssm:AddTagsToResource',
    resources: (input: { ResourceId: string }, scope) => [arnOf(scope, input.ResourceId)],
    context: (input: { Tags?: { Key?: string; Value?: string }[] }, _scope, into) => addTagList(into, input.Tags),
  },
  RemoveTagsFromResource: {
    action: 'ssm:RemoveTagsFromResource',
    resources: (input: { ResourceId: string }, scope) => [arnOf(scope, input.ResourceId)],
    context: (input: { TagKeys?: string[] }, _scope, into) => addTagKeys(into, input.TagKeys),
  },
  ListTagsForResource: one('ssm:ListTagsForResource', 'ResourceId'),
};
