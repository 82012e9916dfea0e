import { StaticCredentials } from '../api/auth/credentials.js';
import { MemoryPolicySource } from '../api/authz/policy-source.js';
import { managedPolicyByArn, parsePolicyDocument } from '../model/iam/index.js';
import type { ServerConfig } from '../server/server.js';
import { TEST_ACCOUNT } from './api-server.js';

/** The ARN of the AWS managed policy ECS's container instances run under. */
export const INSTANCE_ROLE_POLICY_ARN = 'arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role';

/**
 * An IAM user holding AmazonEC2ContainerServiceforEC2Role and nothing else, as server overrides for
 * `startApiFixture` (its key in the credential chain, its policy in memory) and the keys to sign with: what an
 * agent under the instance role is, for tests of agent parts against the real listener.
 */
export function instanceRoleUser(name = 'ecs-instance'): {
  readonly arn: string;
  readonly keys: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly overrides: Pick<ServerConfig, 'credentials' | 'policySource'>;
} {
  const arn = `arn:aws:iam::${TEST_ACCOUNT}:user/${name}`;
  const keys = { accessKeyId: 'AKIAINSTANCEROLE0001', secretAccessKey: 'instance-secret-0123456789abcdefghijklm' } as const;
  const role = managedPolicyByArn(INSTANCE_ROLE_POLICY_ARN)!;
  return {
    arn,
    keys,
    overrides: {
      credentials: new StaticCredentials({ ...keys, principal: { type: 'User', arn, accountId: TEST_ACCOUNT, userName: name, userId: 'AIDAINSTANCE' } }),
      policySource: new MemoryPolicySource().set(arn, [parsePolicyDocument(role.document, 'identity')]),
    },
  };
}
