/**
 * IAM's own actions, declared for the authorization step (Service Authorization Reference, "Actions, resources,
 * and condition keys for AWS Identity and Access Management"): each on the user, group, role or policy it names
 * (`arn:aws:iam::<account>:user<path><name>`, …), the List* of a kind on `*`, request tags as aws:RequestTag/… and
 * aws:TagKeys, and iam:PolicyARN on attachments. A user's own access keys and GetUser without a name act on the
 * caller. An entity is named by its name alone, so its ARN's path is read from the store first
 * (`iamActionsWithPaths`, the table the server mounts: one read per IAM call by a principal other than root); one
 * that does not exist is authorized under the root path and then not found. `iamActions` is the same table under
 * the root path, without reads.
 */
import type { ArnScope } from '../../model/arn.js';
import type { AuthzPrincipal } from '../../model/iam/index.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../authz/declarations.js';

type Kind = 'user' | 'group' | 'role';
type Input = Record<string, unknown>;

const arnOf = (scope: ArnScope, kind: Kind | 'policy', name: string, path = '/') => `arn:aws:iam::${scope.accountId}:${kind}${path}${name}`;

const FIELD: Readonly<Record<Kind, string>> = { user: 'UserName', group: 'GroupName', role: 'RoleName' };

/** Finds the path (`/`, `/team/`) and stored name of an existing user, group or role; undefined when there is none. */
export type EntityLookup = (kind: Kind, name: string) => Promise<{ readonly name: string; readonly path: string } | undefined>;

/** An action on the entity its `<Kind>Name` names; a user action without one acts on the calling user. */
function onEntity(op: string, kind: Kind, lookup?: EntityLookup): ActionDeclaration<Input> {
  const resources = (input: Input, scope: ArnScope, caller?: AuthzPrincipal) => {
    const name = input[FIELD[kind]];
    if (typeof name === 'string') return [arnOf(scope, kind, name)];
    return kind === 'user' && caller?.type === 'User' ? [caller.arn] : [];
  };
  const resolveResources = async (input: Input, scope: ArnScope, caller?: AuthzPrincipal) => {
    const name = input[FIELD[kind]];
    if (typeof name !== 'string' || !lookup) return resources(input, scope, caller);
    const found = await lookup(kind, name);
    return [found ? arnOf(scope, kind, found.name, found.path) : arnOf(scope, kind, name)];
  };
  return {
    action: `iam:${op}`,
    resources,
    ...(lookup ? { resolveResources } : {}),
    context: (input, _scope, into) => {
      if (typeof input.PolicyArn === 'string' && /^(Attach|Detach)/.test(op)) into.set('iam:PolicyARN', input.PolicyArn);
      if (Array.isArray(input.Tags)) addTagList(into, input.Tags as { Key?: string; Value?: string }[]);
      if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
    },
  };
}

const onPolicy = (op: string): ActionDeclaration<Input> => ({
  action: `iam:${op}`,
  resources: (input) => (typeof input.PolicyArn === 'string' ? [input.PolicyArn] : []),
  context: (input, _scope, into) => {
    if (Array.isArray(input.Tags)) addTagList(into, input.Tags as { Key?: string; Value?: string }[]);
    if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
  },
});

/** Create<Kind>: the ARN the new entity will have, with its path. */
const create = (op: string, kind: Kind | 'policy', nameField: string): ActionDeclaration<Input> => ({
  action: `iam:${op}`,
  resources: (input, scope) => [arnOf(scope, kind, String(input[nameField]), typeof input.Path === 'string' ? input.Path : '/')],
  context: (input, _scope, into) => {
    if (Array.isArray(input.Tags)) addTagList(into, input.Tags as { Key?: string; Value?: string }[]);
  },
});

const forEach = <K extends string>(suffixes: readonly K[], kind: 'User' | 'Group' | 'Role') => suffixes.map((s) => s.replace('$', kind));
const INLINE_AND_ATTACHED = ['Put$Policy', 'Get$Policy', 'List$Policies', 'Delete$Policy', 'Attach$Policy', 'Detach$Policy', 'ListAttached$Policies'] as const;
const USER_OPS = [
  'GetUser',
  'DeleteUser',
  'UpdateUser',
  'CreateAccessKey',
  'ListAccessKeys',
  'UpdateAccessKey',
  'DeleteAccessKey',
  'ListGroupsForUser',
  'TagUser',
  'UntagUser',
  'ListUserTags',
  ...forEach(INLINE_AND_ATTACHED, 'User'),
];
const GROUP_OPS = ['GetGroup', 'DeleteGroup', 'UpdateGroup', 'AddUserToGroup', 'RemoveUserFromGroup', ...forEach(INLINE_AND_ATTACHED, 'Group')];
const ROLE_OPS = [
  'GetRole',
  'DeleteRole',
  'UpdateRole',
  'UpdateRoleDescription',
  'UpdateAssumeRolePolicy',
  'TagRole',
  'UntagRole',
  'ListRoleTags',
  ...forEach(INLINE_AND_ATTACHED, 'Role'),
];
const POLICY_OPS = [
  'GetPolicy',
  'DeletePolicy',
  'CreatePolicyVersion',
  'GetPolicyVersion',
  'ListPolicyVersions',
  'DeletePolicyVersion',
  'SetDefaultPolicyVersion',
  'ListEntitiesForPolicy',
  'TagPolicy',
  'UntagPolicy',
  'ListPolicyTags',
];

/** Every IAM action berth serves, by operation name; entities named by name are found through `lookup` (their paths). */
export function iamActionsWithPaths(lookup?: EntityLookup): ActionTable {
  const per = (kind: Kind, ops: readonly string[]) => Object.fromEntries(ops.map((op) => [op, onEntity(op, kind, lookup)]));
  return {
    ListUsers: anyResource('iam:ListUsers'),
    ListGroups: anyResource('iam:ListGroups'),
    ListRoles: anyResource('iam:ListRoles'),
    ListPolicies: anyResource('iam:ListPolicies'),
    // The user owning a key id is not known before the operation reads it.
    GetAccessKeyLastUsed: anyResource('iam:GetAccessKeyLastUsed'),
    CreateUser: create('CreateUser', 'user', 'UserName'),
    CreateGroup: create('CreateGroup', 'group', 'GroupName'),
    CreateRole: create('CreateRole', 'role', 'RoleName'),
    CreatePolicy: create('CreatePolicy', 'policy', 'PolicyName'),
    ...per('user', USER_OPS),
    ...per('group', GROUP_OPS),
    ...per('role', ROLE_OPS),
    ...Object.fromEntries(POLICY_OPS.map((op) => [op, onPolicy(op)])),
  };
}

/** The table with every named entity under the root path (no reads): for tests and tools without a store. */
export const iamActions: ActionTable = iamActionsWithPaths();
