/**
 * Secrets Manager and SSM Parameter Store on the built `berth server` (SQLite store, debug logging), driven by
 * the AWS SDK v3 and the AWS CLI v2: lifecycles, staging labels, the deletion window and its restore, error
 * shapes; and the values themselves never in the data directory's files nor in the server's output.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const REGION = 'us-east-1';

/** The error a call rejects with: its name and message, as the SDK parsed them. */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}) };
  }
  throw new Error('the call succeeded');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('Secrets Manager and Parameter Store on the built server', () => {
  let dir: string;
  let server: BerthServerProcess;
  let sm: SecretsManagerClient;
  let ssm: SSMClient;
  /** Every secret value the tests store: none may be found at rest or in the logs. */
  const values: string[] = [];
  const secretValue = (label: string) => {
    const v = `${label}-${randomUUID()}`;
    values.push(v);
    return v;
  };

  beforeAll(async () => {
    if (!hasAwsCli) throw new Error(`the AWS CLI v2 is required at ${AWS_CLI}`);
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-secrets-'));
    server = await startBerthServer(join(dir, 'data'), ['--log-level', 'debug', '--region', REGION]);
    const config = { region: REGION, endpoint: server.url, credentials: server.keys, maxAttempts: 1 };
    sm = new SecretsManagerClient(config);
    ssm = new SSMClient(config);
  });

  afterAll(async () => {
    sm?.destroy();
    ssm?.destroy();
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates, reads and versions a secret with the SDK; staging labels move as AWS moves them', async () => {
    const first = secretValue('first');
    const created = await sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: first, Description: 'the db', KmsKeyId: 'alias/mine', Tags: [{ Key: 'team', Value: 'red' }] }));
    expect(created.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:\\d{12}:secret:app/db-[A-Za-z0-9]{6}$`));
    const v1 = created.VersionId!;
    // By name, full ARN and partial ARN (without the random suffix).
    for (const id of ['app/db', created.ARN!, created.ARN!.slice(0, -7)]) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      expect(got).toMatchObject({ SecretString: first, VersionId: v1, VersionStages: ['AWSCURRENT'], Name: 'app/db', ARN: created.ARN });
    }
    // A retried CreateSecret (same token, same value) answers as the first; another value is refused.
    const again = await sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: first, ClientRequestToken: v1 }));
    expect(again.VersionId).toBe(v1);
    expect(await failure(sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'other' })))).toMatchObject({
      name: 'ResourceExistsException',
      message: 'The operation failed because the secret app/db already exists.',
    });

    const second = secretValue('second');
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: second }));
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString).toBe(second);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/db', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe(first);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/db', VersionId: v1 }))).SecretString).toBe(first);

    // An explicit stage leaves AWSCURRENT where it is.
    const pending = secretValue('pending');
    const p = await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: pending, VersionStages: ['AWSPENDING'] }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString).toBe(second);
    let described = await sm.send(new DescribeSecretCommand({ SecretId: 'app/db' }));
    expect(described.VersionIdsToStages).toEqual({ [v1]: ['AWSPREVIOUS'], [put.VersionId!]: ['AWSCURRENT'], [p.VersionId!]: ['AWSPENDING'] });
    expect(described).toMatchObject({ Description: 'the db', KmsKeyId: 'alias/mine', Tags: [{ Key: 'team', Value: 'red' }] });
    expect(described.CreatedDate).toBeInstanceOf(Date);

    // Promote the pending version: AWSPREVIOUS follows AWSCURRENT off the version that had it; v1 is deprecated.
    expect(
      await failure(sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/db', VersionStage: 'AWSCURRENT', MoveToVersionId: p.VersionId! }))),
    ).toMatchObject({ name: 'InvalidParameterException' });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/db', VersionStage: 'AWSCURRENT', MoveToVersionId: p.VersionId!, RemoveFromVersionId: put.VersionId! }));
    described = await sm.send(new DescribeSecretCommand({ SecretId: 'app/db' }));
    expect(described.VersionIdsToStages).toEqual({ [put.VersionId!]: ['AWSPREVIOUS'], [p.VersionId!]: ['AWSPENDING', 'AWSCURRENT'] });
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'app/db', IncludeDeprecated: true }));
    expect(versions.Versions!.map((v) => v.VersionId).sort()).toEqual([v1, put.VersionId!, p.VersionId!].sort());
    expect((await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'app/db' }))).Versions).toHaveLength(2);

    // UpdateSecret with a value makes a new current version; binary secrets come back as bytes.
    const third = secretValue('third');
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: 'app/db', SecretString: third, Description: 'still the db' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: updated.ARN! }))).SecretString).toBe(third);
    const bytes = Buffer.from(secretValue('binary'));
    await sm.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: bytes }));
    expect(Buffer.from((await sm.send(new GetSecretValueCommand({ SecretId: 'bin' }))).SecretBinary!)).toEqual(bytes);

    expect(await failure(sm.send(new GetSecretValueCommand({ SecretId: 'nope' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      status: 400,
    });
    expect(await failure(sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' })))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await failure(sm.send(new CreateSecretCommand({ Name: 'both', SecretString: 'x', SecretBinary: Buffer.from('y') })))).toMatchObject({
      name: 'InvalidParameterException',
    });
    const pw = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }));
    expect(pw.RandomPassword).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('schedules a deletion, refuses the secret during its window, restores it; a forced deletion is immediate', async () => {
    const v = secretValue('doomed');
    await sm.send(new CreateSecretCommand({ Name: 'doomed', SecretString: v }));
    expect(await failure(sm.send(new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: 5 })))).toMatchObject({
      name: 'InvalidParameterException',
      message: 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
    });
    const before = Date.now();
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 'doomed' }));
    expect(deleted.DeletionDate!.getTime()).toBeGreaterThanOrEqual(before + 30 * 86_400_000 - 1000);
    expect(await failure(sm.send(new GetSecretValueCommand({ SecretId: 'doomed' })))).toMatchObject({
      name: 'InvalidRequestException',
      message: "You can't perform this operation on the secret because it was marked for deletion.",
    });
    expect(await failure(sm.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'x' })))).toMatchObject({ name: 'InvalidRequestException' });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'doomed' }))).DeletedDate).toBeInstanceOf(Date);
    const names = async (include: boolean) => (await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: include }))).SecretList!.map((s) => s.Name);
    expect(await names(false)).not.toContain('doomed');
    expect(await names(true)).toContain('doomed');

    await sm.send(new RestoreSecretCommand({ SecretId: 'doomed' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'doomed' }))).SecretString).toBe(v);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'doomed' }))).DeletedDate).toBeUndefined();

    await sm.send(new DeleteSecretCommand({ SecretId: 'doomed', ForceDeleteWithoutRecovery: true }));
    expect(await failure(sm.send(new DescribeSecretCommand({ SecretId: 'doomed' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    await sm.send(new CreateSecretCommand({ Name: 'doomed', SecretString: secretValue('reborn') }));
  });

  it('lists secrets with filters and pages', async () => {
    for (let i = 0; i < 5; i++) {
      await sm.send(new CreateSecretCommand({ Name: `list/item-${i}`, Description: i % 2 ? 'Odd one' : 'even one', SecretString: secretValue('list'), Tags: [{ Key: `k${i}`, Value: 'v' }] }));
    }
    const names = async (Filters: { Key: 'name' | 'description' | 'tag-key' | 'all'; Values: string[] }[]) =>
      (await sm.send(new ListSecretsCommand({ Filters }))).SecretList!.map((s) => s.Name).sort();
    expect(await names([{ Key: 'name', Values: ['list/'] }])).toHaveLength(5);
    expect(await names([{ Key: 'name', Values: ['list/'] }, { Key: 'description', Values: ['odd'] }])).toEqual(['list/item-1', 'list/item-3']);
    expect(await names([{ Key: 'tag-key', Values: ['k4'] }])).toEqual(['list/item-4']);
    expect(await names([{ Key: 'name', Values: ['list/'] }, { Key: 'tag-key', Values: ['!k4'] }])).toHaveLength(4);
    const seen: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.send(new ListSecretsCommand({ MaxResults: 2, NextToken, Filters: [{ Key: 'name', Values: ['list/'] }] }));
      seen.push(...page.SecretList!.map((s) => s.Name!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(seen).toEqual(['list/item-0', 'list/item-1', 'list/item-2', 'list/item-3', 'list/item-4']);
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['list/item-1', 'nope'] }));
    expect(batch.SecretValues!.map((v) => [v.Name, v.VersionStages])).toEqual([['list/item-1', ['AWSCURRENT']]]);
    expect(batch.Errors).toEqual([{ SecretId: 'nope', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." }]);
    const filtered = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'tag-key', Values: ['k2', 'k3'] }] }));
    expect(filtered.SecretValues!.map((v) => v.Name)).toEqual(['list/item-2', 'list/item-3']);
    await sm.send(new TagResourceCommand({ SecretId: 'list/item-0', Tags: [{ Key: 'extra', Value: '1' }] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'list/item-0' }))).Tags).toEqual([{ Key: 'k0', Value: 'v' }, { Key: 'extra', Value: '1' }]);
  });

  it('drives Secrets Manager with the AWS CLI, errors included', async () => {
    const v = secretValue('cli');
    const cli = (args: string[]) => awsCli(server.url, server.credentialsFile, args, REGION);
    const created = await cli(['secretsmanager', 'create-secret', '--name', 'cli-secret', '--secret-string', v]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json.ARN).toContain(':secret:cli-secret-');
    const got = await cli(['secretsmanager', 'get-secret-value', '--secret-id', 'cli-secret']);
    expect(got.json).toMatchObject({ SecretString: v, VersionStages: ['AWSCURRENT'] });
    const list = await cli(['secretsmanager', 'list-secrets', '--filters', 'Key=name,Values=cli-']);
    expect(list.json.SecretList.map((s: { Name: string }) => s.Name)).toEqual(['cli-secret']);
    const missing = await cli(['secretsmanager', 'get-secret-value', '--secret-id', 'missing']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('(ResourceNotFoundException) when calling the GetSecretValue operation');
    expect(missing.stderr).toContain(": Secrets Manager can't find the specified secret.");
  });

  it('stores parameters with the SDK: versions, SecureString decryption, paths, labels, tags, history', async () => {
    const secure = secretValue('secure');
    expect(await ssm.send(new PutParameterCommand({ Name: '/app/prod/db-password', Value: secure, Type: 'SecureString', Tags: [{ Key: 'env', Value: 'prod' }] }))).toMatchObject({ Version: 1, Tier: 'Standard' });
    await ssm.send(new PutParameterCommand({ Name: '/app/prod/url', Value: 'http://db', Type: 'String', Description: 'where' }));
    await ssm.send(new PutParameterCommand({ Name: '/app/prod/deep/list', Value: 'a,b,c', Type: 'StringList' }));
    await ssm.send(new PutParameterCommand({ Name: 'plain', Value: 'one', Type: 'String' }));

    const clear = await ssm.send(new GetParameterCommand({ Name: '/app/prod/db-password', WithDecryption: true }));
    expect(clear.Parameter).toMatchObject({ Name: '/app/prod/db-password', Type: 'SecureString', Value: secure, Version: 1, DataType: 'text' });
    expect(clear.Parameter!.ARN).toMatch(/^arn:aws:ssm:us-east-1:\d{12}:parameter\/app\/prod\/db-password$/);
    const sealed = await ssm.send(new GetParameterCommand({ Name: '/app/prod/db-password' }));
    expect(sealed.Parameter!.Value).not.toContain(secure);
    expect(sealed.Parameter!.Value!.length).toBeGreaterThan(secure.length);
    // By ARN too.
    expect((await ssm.send(new GetParameterCommand({ Name: clear.Parameter!.ARN!, WithDecryption: true }))).Parameter!.Value).toBe(secure);

    // Overwrite makes versions; name:version and name:label select them.
    expect(await failure(ssm.send(new PutParameterCommand({ Name: 'plain', Value: 'two', Type: 'String' })))).toMatchObject({
      name: 'ParameterAlreadyExists',
      message: 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
    });
    expect((await ssm.send(new PutParameterCommand({ Name: 'plain', Value: 'two', Overwrite: true }))).Version).toBe(2);
    expect((await ssm.send(new GetParameterCommand({ Name: 'plain:1' }))).Parameter).toMatchObject({ Value: 'one', Version: 1, Selector: ':1' });
    expect(await ssm.send(new LabelParameterVersionCommand({ Name: 'plain', ParameterVersion: 1, Labels: ['stable', '1bad'] }))).toMatchObject({ ParameterVersion: 1, InvalidLabels: ['1bad'] });
    expect((await ssm.send(new GetParameterCommand({ Name: 'plain:stable' }))).Parameter!.Value).toBe('one');
    const history = await ssm.send(new GetParameterHistoryCommand({ Name: 'plain' }));
    expect(history.Parameters!.map((p) => [p.Version, p.Value, p.Labels])).toEqual([[1, 'one', ['stable']], [2, 'two', []]]);
    expect(await failure(ssm.send(new GetParameterCommand({ Name: 'plain:7' })))).toMatchObject({ name: 'ParameterVersionNotFound' });

    const many = await ssm.send(new GetParametersCommand({ Names: ['plain', '/app/prod/url', 'missing'], WithDecryption: true }));
    expect(many.Parameters!.map((p) => p.Name).sort()).toEqual(['/app/prod/url', 'plain']);
    expect(many.InvalidParameters).toEqual(['missing']);

    const level = await ssm.send(new GetParametersByPathCommand({ Path: '/app/prod' }));
    expect(level.Parameters!.map((p) => p.Name).sort()).toEqual(['/app/prod/db-password', '/app/prod/url']);
    const all: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: '/app', Recursive: true, MaxResults: 1, NextToken, WithDecryption: true }));
      all.push(...page.Parameters!.map((p) => p.Name!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(all).toEqual(['/app/prod/db-password', '/app/prod/deep/list', '/app/prod/url']);
    const secureOnly = await ssm.send(new GetParametersByPathCommand({ Path: '/app', Recursive: true, ParameterFilters: [{ Key: 'Type', Values: ['SecureString'] }] }));
    expect(secureOnly.Parameters!.map((p) => p.Name)).toEqual(['/app/prod/db-password']);

    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/app/prod/'] }] }));
    expect(described.Parameters!.map((p) => p.Name)).toEqual(['/app/prod/db-password', '/app/prod/deep/list', '/app/prod/url']);
    expect(described.Parameters![0]).toMatchObject({ Type: 'SecureString', KeyId: 'alias/aws/ssm', Version: 1, Tier: 'Standard' });
    expect(described.Parameters![0]).not.toHaveProperty('Value');

    await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: 'plain', Tags: [{ Key: 'a', Value: 'b' }] }));
    expect((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: 'plain' }))).TagList).toEqual([{ Key: 'a', Value: 'b' }]);
    expect((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/app/prod/db-password' }))).TagList).toEqual([{ Key: 'env', Value: 'prod' }]);

    // Hierarchy rules and the other refusals.
    expect(await failure(ssm.send(new PutParameterCommand({ Name: `/${Array(16).fill('x').join('/')}`, Value: 'v', Type: 'String' })))).toMatchObject({
      name: 'HierarchyLevelLimitExceededException',
    });
    expect(await failure(ssm.send(new PutParameterCommand({ Name: '/aws/mine', Value: 'v', Type: 'String' })))).toMatchObject({ name: 'ValidationException' });
    expect(await failure(ssm.send(new PutParameterCommand({ Name: 'a/b', Value: 'v', Type: 'String' })))).toMatchObject({ name: 'ValidationException' });
    expect(await failure(ssm.send(new PutParameterCommand({ Name: 'plain', Value: 'v', Overwrite: true, Tags: [{ Key: 'k', Value: 'v' }] })))).toMatchObject({ name: 'ValidationException' });
    expect(await failure(ssm.send(new PutParameterCommand({ Name: 'big', Value: 'x'.repeat(4097), Type: 'String' })))).toMatchObject({ name: 'ValidationException' });
    expect(await failure(ssm.send(new PutParameterCommand({ Name: 'pat', Value: 'abc', Type: 'String', AllowedPattern: '^\\d+$' })))).toMatchObject({
      name: 'ParameterPatternMismatchException',
    });
    expect(await failure(ssm.send(new GetParameterCommand({ Name: 'missing' })))).toMatchObject({ name: 'ParameterNotFound' });

    await ssm.send(new DeleteParameterCommand({ Name: 'plain' }));
    expect(await failure(ssm.send(new DeleteParameterCommand({ Name: 'plain' })))).toMatchObject({ name: 'ParameterNotFound' });
    expect(await ssm.send(new DeleteParametersCommand({ Names: ['/app/prod/url', 'gone'] }))).toMatchObject({ DeletedParameters: ['/app/prod/url'], InvalidParameters: ['gone'] });
  });

  it('drives Parameter Store with the AWS CLI, errors included', async () => {
    const v = secretValue('cli-secure');
    const cli = (args: string[]) => awsCli(server.url, server.credentialsFile, args, REGION);
    const put = await cli(['ssm', 'put-parameter', '--name', '/cli/secure', '--value', v, '--type', 'SecureString']);
    expect(put.code, put.stderr).toBe(0);
    expect(put.json).toEqual({ Version: 1, Tier: 'Standard' });
    const got = await cli(['ssm', 'get-parameter', '--name', '/cli/secure', '--with-decryption']);
    expect(got.json.Parameter).toMatchObject({ Name: '/cli/secure', Value: v, Type: 'SecureString' });
    const byPath = await cli(['ssm', 'get-parameters-by-path', '--path', '/cli', '--recursive']);
    expect(byPath.json.Parameters.map((p: { Name: string }) => p.Name)).toEqual(['/cli/secure']);
    const described = await cli(['ssm', 'describe-parameters', '--parameter-filters', 'Key=Path,Option=Recursive,Values=/cli']);
    expect(described.json.Parameters.map((p: { Name: string }) => p.Name)).toEqual(['/cli/secure']);
    const exists = await cli(['ssm', 'put-parameter', '--name', '/cli/secure', '--value', 'x', '--type', 'SecureString']);
    expect(exists.code).not.toBe(0);
    expect(exists.stderr).toContain('(ParameterAlreadyExists) when calling the PutParameter operation');
    const missingType = await cli(['ssm', 'put-parameter', '--name', '/cli/new', '--value', 'x']);
    expect(missingType.stderr).toContain('(ValidationException) when calling the PutParameter operation');
  });

  it('never lets a secret value reach the data directory or the log', async () => {
    expect(values.length).toBeGreaterThan(10);
    // The store is SQLite: the database, its WAL and everything else under the data directory.
    const files = filesUnder(join(dir, 'data'));
    expect(files.some((f) => f.endsWith('berth.db'))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const v of values) expect(bytes.includes(Buffer.from(v)), `${v} in ${file}`).toBe(false);
    }
    const output = server.stdout() + server.stderr();
    // Debug logging is on: every request was logged, but no value.
    expect(output).toContain('"msg":"request"');
    for (const v of values) expect(output.includes(v), `${v} in the server's output`).toBe(false);
  });
});
