/**
 * Secrets Manager's IAM declarations (Service Authorization Reference, "Actions, resources, and condition keys
 * for AWS Secrets Manager"). A secret's ARN ends in six random characters only the store knows, so actions on a
 * secret named by its name (or a partial ARN) look it up first (`resolveResources`); one that does not exist is
 * authorized as `secret:<name>` and then not found. CreateSecret is authorized on `secret:<name>-??????` (its
 * suffix is drawn after), which `secret:<name>-*` policies match. ListSecrets, GetRandomPassword and
 * BatchGetSecretValue are on `*`. Tags as aws:RequestTag/… and aws:TagKeys.
 */
import type { ArnScope } from '../model/arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';

/** Finds a secret's full ARN from a name or ARN; undefined when there is no such secret. */
export type SecretArnLookup = (secretId: string) => Promise<string | undefined>;

const base = (scope: ArnScope) => `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:`;

/** The declarations, resolving names through `lookup`. */
export function secretsActions(lookup: SecretArnLookup): ActionTable {
  const resolve = async (secretId: string, scope: ArnScope) => (await lookup(secretId)) ?? (secretId.startsWith('arn:') ? secretId : `${base(scope)}${secretId}`);
  const onSecret = (action: string, extra?: Partial<ActionDeclaration<Record<string, unknown>>>): ActionDeclaration<{ SecretId: string }> => ({
    action,
    resources: (input, scope) => [input.SecretId.startsWith('arn:') ? input.SecretId : `${base(scope)}${input.SecretId}`],
    resolveResources: async (input, scope) => [await resolve(input.SecretId, scope)],
    ...extra,
  });
  return {
    CreateSecret: {
      action: 'secretsmanager:CreateSecret',
      resources: (input: { Name: string }, scope) => [`${base(scope)}${input.Name}-??????`],
      context: (input: { Tags?: { Key?: string; Value?: string }[] }, _scope, into) => addTagList(into, input.Tags),
    },
    ListSecrets: anyResource('secretsmanager:ListSecrets'),
    GetRandomPassword: anyResource('secretsmanager:GetRandomPassword'),
    BatchGetSecretValue: anyResource('secretsmanager:BatchGetSecretValue'),
    GetSecretValue: onSecret('secretsmanager:GetSecretValue'),
    PutSecretValue: onSecret('secretsmanager:PutSecretValue'),
    UpdateSecret: onSecret('secretsmanager:UpdateSecret'),
    DescribeSecret: onSecret('secretsmanager:DescribeSecret'),
    ListSecretVersionIds: onSecret('secretsmanager:ListSecretVersionIds'),
    DeleteSecret: onSecret('secretsmanager:DeleteSecret'),
    RestoreSecret: onSecret('secretsmanager:RestoreSecret'),
    UpdateSecretVersionStage: onSecret('secretsmanager:UpdateSecretVersionStage'),
    TagResource: onSecret('secretsmanager:TagResource', {
      context: (input, _scope, into) => addTagList(into, input.Tags as { Key?: string; Value?: string }[] | undefined),
    }),
    UntagResource: onSecret('secretsmanager:UntagResource', {
      context: (input, _scope, into) => addTagKeys(into, input.TagKeys as string[] | undefined),
    }),
  };
}
