/**
 * An IAM user allowed only ECS's Describe* and List* actions, for tests that show what the API refuses it (the
 * console's "no back door" checks). Resolves with its key pair once the server signs calls with it: the server learns
 * of a new key through its IAM informer, moments after CreateAccessKey.
 */
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { expect } from 'vitest';

export async function createReadOnlyUser(
  endpoint: string,
  rootKeys: { accessKeyId: string; secretAccessKey: string },
  userName = 'viewer',
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const iam = new IAMClient({ endpoint, region: 'us-east-1', credentials: { ...rootKeys } });
  let key;
  try {
    await iam.send(new CreateUserCommand({ UserName: userName }));
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ecs:Describe*', 'ecs:List*'], Resource: '*' }] };
    await iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'read-only', PolicyDocument: JSON.stringify(policy) }));
    key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
  } finally {
    iam.destroy();
  }
  const keys = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  const ecs = new ECSClient({ endpoint, region: 'us-east-1', credentials: keys });
  try {
    await expect.poll(() => ecs.send(new ListClustersCommand({})).then(() => 'ok', (e: Error) => e.name), { timeout: 15_000, interval: 250 }).toBe('ok');
  } finally {
    ecs.destroy();
  }
  return keys;
}
