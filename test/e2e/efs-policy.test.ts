import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli, type CliResult } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { boto3Calls } from './support/boto3.js';

/**
 * PutFileSystemPolicy's validation as EFS does it (docs/storage.md), through the AWS CLI v2 and boto3 against the
 * built server, no storage host needed (a file system's policy can be set while it is `creating`): malformed
 * policies refused with InvalidPolicyException naming the problem and nothing stored; the lockout safety check for
 * an IAM user, bypassed with BypassPolicyLockoutSafetyCheck, after which the policy's Deny refuses the user's next
 * PutFileSystemPolicy with AccessDeniedException.
 */
describe('EFS file system policy validation (AWS CLI v2, boto3)', () => {
  const dir = join(tmpdir(), `berth-e2e-efs-policy-${randomBytes(6).toString('hex')}`);
  let server: BerthServerProcess;
  let account: string;
  let fsId: string;
  let fsArn: string;
  const root = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const doc = (statement: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: statement });
  const errorOf = (r: CliResult) => /An error occurred \((\w+)\)/.exec(r.stderr)?.[1];

  beforeAll(async () => {
    expect(hasAwsCli, 'the AWS CLI v2 (/usr/bin/aws) is needed').toBe(true);
    mkdirSync(dir, { recursive: true });
    server = await startBerthServer(join(dir, 'server'));
    account = (await root('sts', 'get-caller-identity')).json.Account;
    const made = await root('efs', 'create-file-system', '--creation-token', 'policy-test');
    expect(made.code, made.stderr).toBe(0);
    fsId = made.json.FileSystemId;
    fsArn = made.json.FileSystemArn;
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses malformed policies with InvalidPolicyException naming the problem, and stores nothing', async () => {
    const mount = { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'elasticfilesystem:ClientMount' };
    const cases: [string, RegExp][] = [
      ['{"Version": "2012-10-17", "Statement": [', /Syntax errors in policy/],
      [doc({ ...mount, Action: 's3:GetObject' }), /action "s3:getobject" is not an elasticfilesystem action/],
      [doc({ Effect: 'Allow', Action: 'elasticfilesystem:ClientMount' }), /Missing required field Principal/],
      [doc({ ...mount, Principal: { AWS: 'somebody' } }), /Invalid principal in policy: "AWS":"somebody"/],
      [doc({ ...mount, Resource: 'arn:aws:s3:::bucket' }), /resource "arn:aws:s3:::bucket" is not an Amazon EFS resource/],
      [doc({ ...mount, Condition: { StringMaybe: { 'aws:PrincipalArn': 'x' } } }), /Syntax errors in policy/],
    ];
    // Every case through boto3 (one Python process: each AWS CLI start costs seconds on a loaded machine), the
    // first and the size limit through the AWS CLI as well.
    const long = doc([{ ...mount, Sid: 'x'.repeat(20_000) }]);
    const answers = await boto3Calls(server.url, server.keys, 'efs', [...cases.map(([policy]) => policy), long].map((Policy) => ({ op: 'put_file_system_policy', params: { FileSystemId: fsId, Policy } })));
    cases.forEach(([policy, message], i) => {
      expect(answers[i], policy).toEqual({ error: { code: 'InvalidPolicyException', message: expect.stringMatching(message) } });
    });
    // The model's 20,000-character limit: the shape check answers first, naming the field.
    expect(answers[cases.length]).toEqual({ error: { code: 'BadRequest', message: expect.stringContaining('Policy') } });
    const r = await root('efs', 'put-file-system-policy', '--file-system-id', fsId, '--policy', cases[1]![0]);
    expect(errorOf(r), r.stderr).toBe('InvalidPolicyException');
    expect(r.stderr).toMatch(cases[1]![1]);
    const none = await root('efs', 'describe-file-system-policy', '--file-system-id', fsId);
    expect(errorOf(none), none.stderr).toBe('PolicyNotFound');
  }, 240_000);

  it('a policy locking its IAM caller out is refused unless the check is bypassed; then the Deny holds (boto3)', async () => {
    expect((await root('iam', 'create-user', '--user-name', 'storage-admin')).code).toBe(0);
    const identity = doc({ Effect: 'Allow', Action: 'elasticfilesystem:*', Resource: '*' });
    expect((await root('iam', 'put-user-policy', '--user-name', 'storage-admin', '--policy-name', 'efs', '--policy-document', identity)).code).toBe(0);
    const key = (await root('iam', 'create-access-key', '--user-name', 'storage-admin')).json.AccessKey;
    const keys = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const userArn = `arn:aws:iam::${account}:user/storage-admin`;
    const file = join(dir, 'admin.credentials');
    writeFileSync(file, `[berth]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`, { mode: 0o600 });
    await expect.poll(async () => (await awsCli(server.url, file, ['sts', 'get-caller-identity'])).json?.Arn, { timeout: 10_000 }).toBe(userArn);

    const lockout = doc([
      { Sid: 'mount', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'elasticfilesystem:ClientMount' },
      { Sid: 'frozen', Effect: 'Deny', Principal: { AWS: userArn }, Action: 'elasticfilesystem:PutFileSystemPolicy', Resource: fsArn },
    ]);
    const fine = doc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'] });
    const [refused, allowed, bypassed, described, lockedOut] = await boto3Calls(server.url, keys, 'efs', [
      { op: 'put_file_system_policy', params: { FileSystemId: fsId, Policy: lockout } },
      { op: 'put_file_system_policy', params: { FileSystemId: fsId, Policy: fine } },
      { op: 'put_file_system_policy', params: { FileSystemId: fsId, Policy: lockout, BypassPolicyLockoutSafetyCheck: true } },
      { op: 'describe_file_system_policy', params: { FileSystemId: fsId } },
      { op: 'put_file_system_policy', params: { FileSystemId: fsId, Policy: fine } },
    ]);
    expect(refused).toEqual({ error: { code: 'InvalidPolicyException', message: expect.stringContaining(`would lock ${userArn} out of elasticfilesystem:PutFileSystemPolicy`) } });
    expect(allowed).toMatchObject({ ok: { FileSystemId: fsId, Policy: fine } });
    expect(bypassed).toMatchObject({ ok: { FileSystemId: fsId, Policy: lockout } });
    expect(described).toMatchObject({ ok: { Policy: lockout } });
    expect(lockedOut).toEqual({ error: { code: 'AccessDeniedException', message: expect.stringContaining('explicit deny in a resource-based policy') } });
    // The account's root key is not bound by the file system policy: it can undo the lockout.
    expect((await root('efs', 'delete-file-system-policy', '--file-system-id', fsId)).code).toBe(0);
    const [after] = await boto3Calls(server.url, keys, 'efs', [{ op: 'put_file_system_policy', params: { FileSystemId: fsId, Policy: fine } }]);
    expect(after).toMatchObject({ ok: { Policy: fine } });
  }, 240_000);
});
