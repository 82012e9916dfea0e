/**
 * IAM and STS over the Query protocol, against the built `berth server`, driven by the AWS CLI v2 and the SDK: users
 * and their access keys signing ECS and STS calls (and refused once deactivated or deleted), roles assumed through
 * their trust policies (and the caller's own policies when a trust names only the account), session policies, temporary credentials accepted with their session token, and IAM's XML error shapes as the
 * SDK parses them and as they are on the wire. The server answers as eu-west-1: IAM and STS are global, and clients
 * may sign them for us-east-1.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { CreateAccessKeyCommand, CreateUserCommand, GetUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, awsCli, type CliResult } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const REGION = 'eu-west-1';
const ACCOUNT = '000000000000';
type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

describe('IAM and STS on the built server, through the AWS CLI v2 and the SDK', () => {
  let dir: string;
  let server: BerthServerProcess;
  const clients: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(c: T) => (clients.push(c), c);
  /** The CLI as root (the server's credentials file). */
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args, REGION);
  /** The CLI with other credentials, through a credentials file of their own. */
  let files = 0;
  const awsAs = (keys: Keys, ...args: string[]) => {
    const file = join(dir, `credentials-${++files}`);
    writeFileSync(
      file,
      `[berth]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n${keys.sessionToken ? `aws_session_token = ${keys.sessionToken}\n` : ''}`,
      { mode: 0o600 },
    );
    return awsCli(server.url, file, args, REGION);
  };
  const config = (credentials: Keys) => ({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
  const ecsAs = (keys: Keys) => track(new ECSClient(config(keys)));
  const stsAs = (keys: Keys) => track(new STSClient(config(keys)));
  const ok = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    return r.json;
  };
  const allow = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
  const trustFor = (arn: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: arn }, Action: 'sts:AssumeRole' }] });
  let alice: Keys;

  beforeAll(async () => {
    // A real part the test needs: refuse to pass without it.
    expect(existsSync(AWS_CLI), `${AWS_CLI} (AWS CLI v2) is required`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-iam-'));
    server = await startBerthServer(join(dir, 'data'), ['--region', REGION, '--account-id', ACCOUNT]);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a user and an access key with the CLI; the key signs ECS calls, and STS names the user', async () => {
    const created = ok(await aws('iam', 'create-user', '--user-name', 'alice', '--path', '/team/'));
    expect(created.User).toMatchObject({ UserName: 'alice', Path: '/team/', Arn: `arn:aws:iam::${ACCOUNT}:user/team/alice` });
    const key = ok(await aws('iam', 'create-access-key', '--user-name', 'alice')).AccessKey;
    expect(key).toMatchObject({ UserName: 'alice', Status: 'Active' });
    expect(key.AccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    alice = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    // What alice's key does below: authorization is a step of every call, and a user without policies may do nothing.
    ok(await aws('iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'calls', '--policy-document', allow(['ecs:CreateCluster', 'ecs:ListClusters', 'iam:GetUser'])));
    // The secret is shown once, and never written anywhere in clear: not in the logs, not in the store's files.
    expect(server.stdout() + server.stderr()).not.toContain(alice.secretAccessKey);
    const stored = readdirSync(server.dataDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name)));
    expect(stored.some((bytes) => bytes.includes(alice.accessKeyId))).toBe(true);
    expect(stored.some((bytes) => bytes.includes(alice.secretAccessKey))).toBe(false);

    await ecsAs(alice).send(new CreateClusterCommand({ clusterName: 'by-alice' }));
    expect((await ecsAs(alice).send(new ListClustersCommand({}))).clusterArns).toContain(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/by-alice`);
    const identity = ok(await awsAs(alice, 'sts', 'get-caller-identity'));
    expect(identity).toMatchObject({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/team/alice` });
    expect(identity.UserId).toBe(created.User.UserId);
    expect(ok(await aws('sts', 'get-caller-identity')).Arn).toBe(`arn:aws:iam::${ACCOUNT}:root`);
    // Without a name, GetUser is about the caller (the root user has no name or path in IAM's answer).
    expect(ok(await awsAs(alice, 'iam', 'get-user')).User.UserName).toBe('alice');
    expect(ok(await aws('iam', 'get-user')).User).toMatchObject({ UserId: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:root` });
    expect(ok(await aws('iam', 'list-access-keys', '--user-name', 'alice')).AccessKeyMetadata.map((k: { AccessKeyId: string }) => k.AccessKeyId)).toEqual([
      alice.accessKeyId,
    ]);
  });

  it('refuses the key once deactivated, takes it back when reactivated, and refuses it for good once deleted', async () => {
    ok(await aws('iam', 'update-access-key', '--user-name', 'alice', '--access-key-id', alice.accessKeyId, '--status', 'Inactive'));
    await expect(ecsAs(alice).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
    const refused = await awsAs(alice, 'sts', 'get-caller-identity');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('InvalidClientTokenId');

    ok(await aws('iam', 'update-access-key', '--user-name', 'alice', '--access-key-id', alice.accessKeyId, '--status', 'Active'));
    expect((await ecsAs(alice).send(new ListClustersCommand({}))).$metadata.httpStatusCode).toBe(200);

    const second = ok(await aws('iam', 'create-access-key', '--user-name', 'alice')).AccessKey;
    ok(await aws('iam', 'delete-access-key', '--user-name', 'alice', '--access-key-id', alice.accessKeyId));
    await expect(ecsAs(alice).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    alice = { accessKeyId: second.AccessKeyId, secretAccessKey: second.SecretAccessKey };
    expect((await ecsAs(alice).send(new ListClustersCommand({}))).$metadata.httpStatusCode).toBe(200);
  });

  it('assumes a role that trusts the user; the temporary credentials are the assumed role; a role that does not trust refuses', async () => {
    const userArn = `arn:aws:iam::${ACCOUNT}:user/team/alice`;
    const role = ok(await aws('iam', 'create-role', '--role-name', 'deployer', '--assume-role-policy-document', trustFor(userArn), '--max-session-duration', '7200')).Role;
    expect(role.RoleId).toMatch(/^AROA/);
    ok(await aws('iam', 'put-role-policy', '--role-name', 'deployer', '--policy-name', 'calls', '--policy-document', allow(['ecs:ListClusters'])));
    // The CLI decodes the URL-encoded document IAM returns.
    expect(ok(await aws('iam', 'get-role', '--role-name', 'deployer')).Role.AssumeRolePolicyDocument).toEqual(JSON.parse(trustFor(userArn)));

    const assumed = ok(await awsAs(alice, 'sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'ci-run', '--duration-seconds', '1800'));
    expect(assumed.AssumedRoleUser).toEqual({ AssumedRoleId: `${role.RoleId}:ci-run`, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run` });
    expect(assumed.Credentials.AccessKeyId).toMatch(/^ASIA/);
    const expiresIn = Date.parse(assumed.Credentials.Expiration) - Date.now();
    expect(expiresIn).toBeGreaterThan(1_700_000);
    expect(expiresIn).toBeLessThanOrEqual(1_800_000);
    const temporary: Keys = {
      accessKeyId: assumed.Credentials.AccessKeyId,
      secretAccessKey: assumed.Credentials.SecretAccessKey,
      sessionToken: assumed.Credentials.SessionToken,
    };
    expect(await stsAs(temporary).send(new GetCallerIdentityCommand({}))).toMatchObject({
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run`,
      UserId: `${role.RoleId}:ci-run`,
    });
    expect(ok(await awsAs(temporary, 'sts', 'get-caller-identity')).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run`);
    expect((await ecsAs(temporary).send(new ListClustersCommand({}))).$metadata.httpStatusCode).toBe(200);
    // The key without its token, or with another session's token, is nobody.
    await expect(ecsAs({ ...temporary, sessionToken: undefined }).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });

    ok(await aws('iam', 'create-role', '--role-name', 'closed', '--assume-role-policy-document', trustFor(`arn:aws:iam::${ACCOUNT}:user/nobody`)));
    const closedArn = `arn:aws:iam::${ACCOUNT}:role/closed`;
    await expect(stsAs(alice).send(new AssumeRoleCommand({ RoleArn: closedArn, RoleSessionName: 'try' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: ${userArn} is not authorized to perform: sts:AssumeRole on resource: ${closedArn}`,
      $metadata: { httpStatusCode: 403 },
    });
    const cli = await awsAs(alice, 'sts', 'assume-role', '--role-arn', closedArn, '--role-session-name', 'try');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('(AccessDenied)');
  });

  it('a role trusting only the account also needs the user’s own sts:AssumeRole; a session policy narrows the session (CLI --policy)', async () => {
    const userArn = `arn:aws:iam::${ACCOUNT}:user/team/alice`;
    const role = ok(await aws('iam', 'create-role', '--role-name', 'ops', '--assume-role-policy-document', trustFor(`arn:aws:iam::${ACCOUNT}:root`))).Role;
    ok(await aws('iam', 'put-role-policy', '--role-name', 'ops', '--policy-name', 'ecs', '--policy-document', allow(['ecs:*'])));
    const refused = await awsAs(alice, 'sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'first');
    expect(refused.code).not.toBe(0);
    // The CLI puts "(reached max retries: 0)" between the operation and the message.
    expect(refused.stderr).toContain('(AccessDenied) when calling the AssumeRole operation');
    expect(refused.stderr).toContain(
      `: User: ${userArn} is not authorized to perform: sts:AssumeRole on resource: ${role.Arn} because no identity-based policy allows the sts:AssumeRole action`,
    );
    const assumeOps = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role.Arn }] });
    ok(await aws('iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'assume-ops', '--policy-document', assumeOps));
    // The server applies a policy change once its watch delivers it (milliseconds): poll, with a deadline.
    await expect.poll(async () => (await awsAs(alice, 'sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'second')).code, { timeout: 10_000 }).toBe(0);

    const listOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:ListClusters', Resource: '*' }] });
    const narrowed = ok(await awsAs(alice, 'sts', 'assume-role', '--role-arn', role.Arn, '--role-session-name', 'narrow', '--policy', listOnly));
    expect(narrowed.PackedPolicySize).toBeGreaterThan(0);
    const session: Keys = { accessKeyId: narrowed.Credentials.AccessKeyId, secretAccessKey: narrowed.Credentials.SecretAccessKey, sessionToken: narrowed.Credentials.SessionToken };
    expect(ok(await awsAs(session, 'ecs', 'list-clusters')).clusterArns).toContain(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/by-alice`);
    const runTask = await awsAs(session, 'ecs', 'run-task', '--cluster', 'by-alice', '--task-definition', 'web:1');
    expect(runTask.code).not.toBe(0);
    expect(runTask.stderr).toContain('(AccessDeniedException) when calling the RunTask operation');
    expect(runTask.stderr).toContain(
      `: User: arn:aws:sts::${ACCOUNT}:assumed-role/ops/narrow is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:1 because no session policy allows the ecs:RunTask action`,
    );
  });

  it('serves groups, inline and managed policies to the CLI, with the AWS managed policies in every account', async () => {
    ok(await aws('iam', 'create-group', '--group-name', 'devs'));
    ok(await aws('iam', 'add-user-to-group', '--group-name', 'devs', '--user-name', 'alice'));
    expect(ok(await aws('iam', 'get-group', '--group-name', 'devs')).Users.map((u: { UserName: string }) => u.UserName)).toEqual(['alice']);
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:Describe*', Resource: '*' }] };
    ok(await aws('iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'describe', '--policy-document', JSON.stringify(doc)));
    expect(ok(await aws('iam', 'get-user-policy', '--user-name', 'alice', '--policy-name', 'describe')).PolicyDocument).toEqual(doc);
    const aws_ = ok(await aws('iam', 'list-policies', '--scope', 'AWS')).Policies.map((p: { PolicyName: string }) => p.PolicyName);
    expect(aws_).toEqual(expect.arrayContaining(['AdministratorAccess', 'AmazonECSTaskExecutionRolePolicy', 'AmazonEC2ContainerServiceforEC2Role']));
    const policy = ok(await aws('iam', 'create-policy', '--policy-name', 'ops', '--policy-document', JSON.stringify(doc))).Policy;
    ok(await aws('iam', 'attach-role-policy', '--role-name', 'deployer', '--policy-arn', policy.Arn));
    ok(await aws('iam', 'attach-role-policy', '--role-name', 'deployer', '--policy-arn', 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'));
    expect(ok(await aws('iam', 'list-attached-role-policies', '--role-name', 'deployer')).AttachedPolicies).toHaveLength(2);
    const conflict = await aws('iam', 'delete-policy', '--policy-arn', policy.Arn);
    expect(conflict.stderr).toContain('(DeleteConflict)');
  });

  it('answers IAM errors in the Query XML shape, as the SDK parses them and as they are on the wire', async () => {
    const iam = track(new IAMClient(config({ accessKeyId: server.keys.accessKeyId, secretAccessKey: server.keys.secretAccessKey })));
    await expect(iam.send(new GetUserCommand({ UserName: 'ghost' }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
      message: 'The user with name ghost cannot be found.',
      $fault: 'client',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(iam.send(new CreateUserCommand({ UserName: 'alice' }))).rejects.toMatchObject({ name: 'EntityAlreadyExistsException', $metadata: { httpStatusCode: 409 } });
    await expect(iam.send(new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'bad', PolicyDocument: '{"Version":"2012-10-17","Statement":' }))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).resolves.toBeDefined();
    await expect(iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'Cannot exceed quota for AccessKeysPerUser: 2',
      $metadata: { httpStatusCode: 409 },
    });

    // On the wire: one signed form POST, signed for us-east-1 although the server is eu-west-1 (IAM is global).
    const raw = await signedForm('iam', 'us-east-1', 'Action=GetUser&Version=2010-05-08&UserName=ghost');
    expect(raw.status).toBe(404);
    expect(raw.headers.get('content-type')).toBe('text/xml');
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(raw.text);
    expect(parsed.ErrorResponse['@_xmlns']).toBe('https://iam.amazonaws.com/doc/2010-05-08/');
    expect(parsed.ErrorResponse.Error).toEqual({ Type: 'Sender', Code: 'NoSuchEntity', Message: 'The user with name ghost cannot be found.' });
    expect(parsed.ErrorResponse.RequestId).toBe(raw.headers.get('x-amzn-requestid'));
    for (const [body, status, code] of [
      ['Action=CreateUser&Version=2010-05-08&UserName=alice', 409, 'EntityAlreadyExists'],
      ['Action=CreateUser&Version=2010-05-08', 400, 'ValidationError'],
      ['Action=PutUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=p&PolicyDocument=%7B', 400, 'MalformedPolicyDocument'],
      ['Action=CreateAccessKey&Version=2010-05-08&UserName=alice', 409, 'LimitExceeded'],
      ['Action=NoSuchAction&Version=2010-05-08', 400, 'InvalidAction'],
    ] as const) {
      const answer = await signedForm('iam', 'us-east-1', body);
      expect([answer.status, new XMLParser().parse(answer.text).ErrorResponse.Error.Code], body).toEqual([status, code]);
    }
    const ok200 = await signedForm('sts', REGION, 'Action=GetCallerIdentity&Version=2011-06-15');
    expect(ok200.status).toBe(200);
    expect(new XMLParser().parse(ok200.text).GetCallerIdentityResponse.GetCallerIdentityResult.Arn).toBe(`arn:aws:iam::${ACCOUNT}:root`);
    const wrongRegion = await signedForm('sts', 'ap-south-1', 'Action=GetCallerIdentity&Version=2011-06-15');
    expect([wrongRegion.status, new XMLParser().parse(wrongRegion.text).ErrorResponse.Error.Code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  async function signedForm(service: string, region: string, body: string): Promise<{ status: number; text: string; headers: Headers }> {
    const url = new URL(server.url);
    const signer = new SignatureV4({ credentials: server.keys, region, service, sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
      }),
    );
    const { host: _host, ...headers } = signed.headers;
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
});
