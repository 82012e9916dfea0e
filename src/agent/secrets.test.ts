import { describe, expect, it } from 'vitest';
import { resolveSecrets, SecretsUnavailableError, type SecretsApi } from './secrets.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';

function fakeApi(secrets: Record<string, Record<string, string>>, params: Record<string, string>) {
  const calls: string[] = [];
  const api: SecretsApi = {
    async getSecretValue({ SecretId, VersionStage, VersionId }) {
      calls.push(`asm ${SecretId} ${VersionStage ?? ''} ${VersionId ?? ''}`);
      const versions = secrets[SecretId];
      const value = versions?.[VersionId ?? VersionStage ?? 'AWSCURRENT'];
      if (value === undefined) throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' });
      return { SecretString: value };
    },
    async getParameters(names) {
      calls.push(`ssm ${names.join(',')}`);
      return { values: new Map(names.filter((n) => n in params).map((n) => [n, params[n]!])), invalid: names.filter((n) => !(n in params)) };
    },
  };
  return { api, calls };
}

describe('resolveSecrets', () => {
  it('fetches parameters in batches of ten and secrets by stage, version and JSON key', async () => {
    const params = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`/app/p${i}`, `v${i}`]));
    const { api, calls } = fakeApi({ [ARN]: { AWSCURRENT: '{"user":"admin","password":"hunter2","port":5432}', AWSPREVIOUS: 'old', 'a1b2': 'pinned' } }, params);
    const env = await resolveSecrets(
      [
        ...Object.keys(params).map((name, i) => ({ name: `P${i}`, valueFrom: name })),
        { name: 'P0_AGAIN', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/p0' },
        { name: 'WHOLE', valueFrom: ARN },
        { name: 'PASSWORD', valueFrom: `${ARN}:password::` },
        { name: 'PORT', valueFrom: `${ARN}:port::` },
        { name: 'PREVIOUS', valueFrom: `${ARN}::AWSPREVIOUS:` },
        { name: 'PINNED', valueFrom: `${ARN}:::a1b2` },
      ],
      api,
    );
    expect(env).toMatchObject({ P0: 'v0', P11: 'v11', P0_AGAIN: 'v0', PASSWORD: 'hunter2', PORT: '5432', PREVIOUS: 'old', PINNED: 'pinned' });
    expect(env.WHOLE).toContain('"user":"admin"');
    expect(calls.filter((c) => c.startsWith('ssm')).map((c) => c.split(',').length)).toEqual([10, 2]);
  });

  it("stops the task with ECS's reasons when a secret cannot be had", async () => {
    const { api } = fakeApi({ [ARN]: { AWSCURRENT: '{"user":"admin"}' } }, { '/app/x': 'x' });
    const reason = async (secrets: { name: string; valueFrom: string }[], with_: SecretsApi | 'none' = api) => {
      const error = await resolveSecrets(secrets, with_ === 'none' ? undefined : with_).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SecretsUnavailableError);
      return (error as Error).message;
    };
    const prefix = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ';
    expect(await reason([{ name: 'A', valueFrom: '/app/missing' }])).toBe(`${prefix}unable to retrieve secrets from ssm: invalid parameters: /app/missing`);
    expect(await reason([{ name: 'A', valueFrom: `${ARN.slice(0, -6)}zzzzzz` }])).toBe(
      `${prefix}unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${ARN.slice(0, -6)}zzzzzz from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.`,
    );
    expect(await reason([{ name: 'A', valueFrom: `${ARN}:password::` }])).toBe(`${prefix}unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key password`);
    expect(await reason([{ name: 'A', valueFrom: 'arn:aws:s3:::bucket' }])).toContain('invalid valueFrom for secret A');
    expect(await reason([{ name: 'A', valueFrom: '/app/x' }], 'none')).toContain('no execution role credentials');
  });

  it('asks nothing for a container without secrets', async () => {
    expect(await resolveSecrets([], undefined)).toEqual({});
  });
});
