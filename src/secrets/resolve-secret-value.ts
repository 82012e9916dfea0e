import { ServiceError } from '../model/errors.js';
import { parseSelector } from '../parameters/parameter-names.js';
import { ParameterStore } from '../parameters/parameter-store.js';
import { parseSecretReference } from './secret-ids.js';
import { SecretVault, type SecretsEnv } from './secret-vault.js';

/** A container secret could not be resolved; `message` is the task's stopped reason, as ECS words it. */
export class SecretResolutionError extends Error {
  override readonly name = 'SecretResolutionError';
}

const PREFIX = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed';

/**
 * The value of an ECS container's `secrets[].valueFrom` (or `logConfiguration.secretOptions[].valueFrom`):
 * a Secrets Manager ARN, optionally `:json-key:version-stage:version-id`, or a Parameter Store name, ARN or
 * `name:version|label`. SecureString parameters come decrypted, as the agent asks for them. A failure is a
 * SecretResolutionError whose message is ECS's stopped reason (never the value).
 */
export async function resolveSecretValue(env: SecretsEnv, valueFrom: string): Promise<string> {
  const reference = parseSecretReference(valueFrom);
  if (reference) {
    const fail = (detail: string) =>
      new SecretResolutionError(
        `${PREFIX}: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${reference.secretId} from secrets manager: ${detail}`,
      );
    let value: string;
    try {
      const opened = await new SecretVault(env).getValue(reference.secretId, reference.versionId, reference.versionStage);
      value = 'string' in opened.value ? opened.value.string : opened.value.binary.toString('base64');
    } catch (error) {
      if (error instanceof ServiceError) throw fail(`${error.type}: ${error.message}`);
      throw error;
    }
    if (reference.jsonKey === undefined) return value;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new SecretResolutionError(`${PREFIX}: unable to retrieve secret from asm: secret ${reference.secretId}: failed to unmarshal secret value as JSON to retrieve key ${reference.jsonKey}`);
    }
    const field = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[reference.jsonKey] : undefined;
    if (field === undefined) {
      throw new SecretResolutionError(`${PREFIX}: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key ${reference.jsonKey}`);
    }
    return typeof field === 'string' ? field : JSON.stringify(field);
  }
  try {
    return (await new ParameterStore(env).get(parseSelector(valueFrom))).value;
  } catch (error) {
    if (error instanceof ServiceError) {
      throw new SecretResolutionError(
        `${PREFIX}: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: ${valueFrom}`,
      );
    }
    throw error;
  }
}
