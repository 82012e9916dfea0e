import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, type BuiltImage } from '../../src/testing/busybox-image.js';
import { awsCli, hasAwsCli, type CliResult } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { skopeo } from './support/skopeo.js';

/**
 * Authorization with real IAM users, made and used with the AWS CLI v2 against the built `berth server`; skopeo
 * pushes and pulls with the users' registry logins.
 */
describe('authorization of IAM users (AWS CLI v2, skopeo)', () => {
  let dir: string;
  let server: BerthServerProcess;
  let host: string;
  let image: BuiltImage;
  const ACCOUNT = '000000000000';
  const root = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);

  /** A user with an inline policy and an access key, and a function running the CLI as that user. */
  async function user(name: string, policy: object): Promise<(...args: string[]) => Promise<CliResult>> {
    expect((await root('iam', 'create-user', '--user-name', name)).code).toBe(0);
    expect((await root('iam', 'put-user-policy', '--user-name', name, '--policy-name', 'p', '--policy-document', JSON.stringify(policy))).code).toBe(0);
    const key = await root('iam', 'create-access-key', '--user-name', name);
    expect(key.code).toBe(0);
    const file = join(dir, `${name}.credentials`);
    writeFileSync(file, `[berth]\naws_access_key_id = ${key.json.AccessKey.AccessKeyId}\naws_secret_access_key = ${key.json.AccessKey.SecretAccessKey}\n`, { mode: 0o600 });
    const as = (...args: string[]) => awsCli(server.url, file, args);
    // A new key reaches every replica's cache within moments (IAM is eventually consistent in AWS as well).
    await expect.poll(async () => (await as('sts', 'get-caller-identity')).json?.Arn, { timeout: 10_000 }).toBe(`arn:aws:iam::${ACCOUNT}:user/${name}`);
    return as;
  }

  beforeAll(async () => {
    expect(hasAwsCli, 'the AWS CLI v2 (/usr/bin/aws) is needed').toBe(true);
    dir = join(tmpdir(), `berth-e2e-authz-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir);
    server = await startBerthServer(join(dir, 'data'));
    host = new URL(server.url).host;
    image = await buildBusyboxImage(join(dir, 'image'), 'v1', { cmd: ['sleep', '1'] });
    for (const cluster of ['prod', 'dev']) expect((await root('ecs', 'create-cluster', '--cluster-name', cluster)).code).toBe(0);
    const registered = await root(
      'ecs',
      'register-task-definition',
      '--family',
      'web',
      '--container-definitions',
      JSON.stringify([{ name: 'web', image: 'busybox', memory: 64 }]),
    );
    expect(registered.code).toBe(0);
  });
  afterAll(async () => {
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a user limited to ecs:Describe* on one cluster describes it and is refused RunTask and every other cluster', async () => {
    const ana = await user('ana', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'ecs:Describe*', Resource: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod` }],
    });
    const described = await ana('ecs', 'describe-clusters', '--clusters', 'prod');
    expect(described.code).toBe(0);
    expect(described.json.clusters.map((c: { clusterName: string }) => c.clusterName)).toEqual(['prod']);

    for (const other of [['--clusters', 'dev'], ['--clusters', 'prod', 'dev'], []]) {
      const refused = await ana('ecs', 'describe-clusters', ...other);
      expect(refused.code).toBe(254);
      // The CLI may add "(reached max retries: N)" before the colon.
      expect(refused.stderr).toMatch(/An error occurred \(AccessDeniedException\) when calling the DescribeClusters operation( \(reached max retries: \d+\))?: /);
      expect(refused.stderr).toContain(`User: arn:aws:iam::${ACCOUNT}:user/ana is not authorized to perform: ecs:DescribeClusters on resource: arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/`);
      expect(refused.stderr).toContain('because no identity-based policy allows the ecs:DescribeClusters action');
    }
    const run = await ana('ecs', 'run-task', '--cluster', 'prod', '--task-definition', 'web:1');
    expect(run.code).toBe(254);
    expect(run.stderr).toContain(
      `User: arn:aws:iam::${ACCOUNT}:user/ana is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:1 because no identity-based policy allows the ecs:RunTask action`,
    );
    // Nothing was started: root sees no task in prod.
    expect((await root('ecs', 'list-tasks', '--cluster', 'prod')).json.taskArns).toEqual([]);
    // Nor may ana grant herself more.
    const escalate = await ana('iam', 'put-user-policy', '--user-name', 'ana', '--policy-name', 'more', '--policy-document', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}');
    expect(escalate.code).toBe(254);
    expect(escalate.stderr).toContain('(AccessDenied)');
    expect(escalate.stderr).toContain(`iam:PutUserPolicy on resource: arn:aws:iam::${ACCOUNT}:user/ana`);
  });

  it('a Deny on ecr:PutImage stops skopeo copy to that repository while pulls still work', async () => {
    for (const repo of ['locked', 'open']) expect((await root('ecr', 'create-repository', '--repository-name', repo)).code).toBe(0);
    const rootPassword = (await root('ecr', 'get-login-password')).stdout.trim();
    const seeded = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `AWS:${rootPassword}`, `oci:${image.layoutDir}:v1`, `docker://${host}/locked:v1`]);
    expect(seeded.code).toBe(0);

    const pusher = await user('pusher', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ecr:*', Resource: '*' },
        { Effect: 'Deny', Action: 'ecr:PutImage', Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/locked` },
      ],
    });
    const login = await pusher('ecr', 'get-login-password');
    expect(login.code).toBe(0);
    const creds = `AWS:${login.stdout.trim()}`;

    const push = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${image.layoutDir}:v1`, `docker://${host}/locked:v2`]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/denied/i);
    expect((await root('ecr', 'list-images', '--repository-name', 'locked')).json.imageIds.map((i: { imageTag?: string }) => i.imageTag)).toEqual(['v1']);

    const out = join(dir, 'pulled');
    const pull = await skopeo(['copy', '--src-tls-verify=false', '--src-creds', creds, `docker://${host}/locked:v1`, `oci:${out}:v1`]);
    expect(pull.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).manifests[0].digest).toBe(image.manifestDigest);

    const elsewhere = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${image.layoutDir}:v1`, `docker://${host}/open:v1`]);
    expect(elsewhere.stderr).toBe('');
    expect(elsewhere.code).toBe(0);
  });
});
