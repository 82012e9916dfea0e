import type { RegistryCredentials } from '../image/image-service.js';
import { describe, PREFIX, SecretsUnavailableError, type SecretsApi } from './secrets.js';

/**
 * A container's `repositoryCredentials.credentialsParameter` (ECS's private registry authentication,
 * ecs.capability.private-registry-authentication.secretsmanager): a Secrets Manager secret — ARN or name —
 * whose SecretString is `{"username": …, "password": …}`, fetched with the task execution role's
 * credentials and used as the Basic credentials of that container's image registry. Never saved or logged.
 * Throws SecretsUnavailableError with ECS's stopped reason.
 */
export async function resolveRepositoryCredentials(credentialsParameter: string, api: SecretsApi | undefined): Promise<RegistryCredentials> {
  const fail = (why: string) => new SecretsUnavailableError(`${PREFIX}: unable to retrieve secret from asm: ${why}`);
  if (!api) throw fail(`the task has no execution role credentials to fetch ${credentialsParameter} with (set executionRoleArn)`);
  let secret: Awaited<ReturnType<SecretsApi['getSecretValue']>>;
  try {
    secret = await api.getSecretValue({ SecretId: credentialsParameter });
  } catch (error) {
    throw fail(`service call has been retried 1 time(s): asm fetching secret from the service for ${credentialsParameter}: ${describe(error)}`);
  }
  if (!secret.SecretString) throw fail('asm fetching authorization data: empty secrets value');
  let doc: unknown;
  try {
    doc = JSON.parse(secret.SecretString);
  } catch {
    throw fail('asm fetching authorization data: unable to unmarshal secret value, invalid schema');
  }
  const { username, password } = (doc && typeof doc === 'object' ? doc : {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || username === '') throw fail('asm fetching username: AuthorizationData is malformed, empty field');
  if (typeof password !== 'string' || password === '') throw fail('asm fetching password: AuthorizationData is malformed, empty field');
  return { username, password };
}
