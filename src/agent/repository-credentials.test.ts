import { describe, expect, it } from 'vitest';
import { resolveRepositoryCredentials } from './repository-credentials.js';
import { SecretsUnavailableError, type SecretsApi } from './secrets.js';

const PREFIX = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: ';

function api(values: Record<string, string>): SecretsApi {
  return {
    async getSecretValue({ SecretId }) {
      if (!(SecretId in values)) throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' });
      return { SecretString: values[SecretId]! };
    },
    async getParameters() {
      throw new Error('not used');
    },
  };
}

describe('resolveRepositoryCredentials', () => {
  it('reads {"username","password"} from the secret', async () => {
    expect(await resolveRepositoryCredentials('reg', api({ reg: '{"username":"u","password":"p:w"}' }))).toEqual({ username: 'u', password: 'p:w' });
  });

  it.each([
    ['missing', undefined, `${PREFIX}service call has been retried 1 time(s): asm fetching secret from the service for missing: ResourceNotFoundException: Secrets Manager can't find the specified secret.`],
    ['notjson', 'hunter2', `${PREFIX}asm fetching authorization data: unable to unmarshal secret value, invalid schema`],
    ['nouser', '{"password":"p"}', `${PREFIX}asm fetching username: AuthorizationData is malformed, empty field`],
    ['nopass', '{"username":"u"}', `${PREFIX}asm fetching password: AuthorizationData is malformed, empty field`],
  ])("%s → ECS's stopped reason, without the secret's value", async (id, value, reason) => {
    const error = await resolveRepositoryCredentials(id, api(value === undefined ? {} : { [id]: value })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect((error as Error).message).toBe(reason);
  });

  it('no execution role: stopped, saying so', async () => {
    await expect(resolveRepositoryCredentials('reg', undefined)).rejects.toThrow(/no execution role credentials/);
  });
});
