import { describe, expect, it } from 'vitest';
import { KeyRingSealer } from '../identity/sealer.js';
import { ParameterStore } from '../parameters/parameter-store.js';
import { MemoryStore } from '../store/memory.js';
import { resolveSecretValue } from './resolve-secret-value.js';
import { SecretVault } from './secret-vault.js';

function setup() {
  const env = {
    store: new MemoryStore(),
    sealer: new KeyRingSealer([{ id: 'k1', key: Buffer.alloc(32, 1) }]),
    scope: { region: 'us-east-1', accountId: '123456789012' },
    now: () => 1_000_000,
  };
  return { env, vault: new SecretVault(env), params: new ParameterStore(env) };
}

describe('resolveSecretValue (container secrets)', () => {
  it('reads a Secrets Manager secret by ARN, a JSON key of it, and another stage or version', async () => {
    const { env, vault } = setup();
    const { secret, versionId } = await vault.create({ name: 'db', value: { string: '{"user":"admin","password":"pw1","port":5432}' } });
    await vault.putValue('db', { string: '{"password":"pw2"}' }, undefined);
    expect(await resolveSecretValue(env, secret.arn)).toBe('{"password":"pw2"}');
    expect(await resolveSecretValue(env, `${secret.arn}:password::`)).toBe('pw2');
    expect(await resolveSecretValue(env, `${secret.arn}:password:AWSPREVIOUS:`)).toBe('pw1');
    expect(await resolveSecretValue(env, `${secret.arn}:port::${versionId!}`)).toBe('5432');
    // A partial ARN (no random suffix) names it too.
    expect(await resolveSecretValue(env, `${secret.arn.slice(0, -7)}:user:AWSPREVIOUS:`)).toBe('admin');
  });

  it('reads a parameter by name, ARN and version, SecureString decrypted', async () => {
    const { env, params } = setup();
    await params.put({ name: '/app/key', value: 'k1', type: 'SecureString', overwrite: false, user: 'me' });
    await params.put({ name: '/app/key', value: 'k2', overwrite: true, user: 'me' });
    expect(await resolveSecretValue(env, '/app/key')).toBe('k2');
    expect(await resolveSecretValue(env, 'arn:aws:ssm:us-east-1:123456789012:parameter/app/key')).toBe('k2');
    expect(await resolveSecretValue(env, '/app/key:1')).toBe('k1');
  });

  it("fails with ECS's stopped reason, never the value", async () => {
    const { env, vault } = setup();
    const { secret } = await vault.create({ name: 'db', value: { string: '{"a":"sekrit"}' } });
    const missing = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbC123';
    await expect(resolveSecretValue(env, missing)).rejects.toThrow(
      `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${missing} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.`,
    );
    await expect(resolveSecretValue(env, `${secret.arn}:b::`)).rejects.toThrow(/did not contain json key b$/);
    await expect(resolveSecretValue(env, '/nope')).rejects.toThrow(
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: /nope',
    );
    const error = await resolveSecretValue(env, `${secret.arn}:b::`).catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain('sekrit');
  });
});
