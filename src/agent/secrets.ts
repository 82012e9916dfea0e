import type { AwsCredentialIdentity } from '@smithy/types';
import { parseSecretReference, type SecretReference } from '../model/secret-reference.js';
import { AwsJsonClient } from './aws-json/client.js';
import { SECRETS_MANAGER, SSM, type SecretsManagerOperations, type SsmOperations } from './aws-json/services.js';
import { DEFAULT_TIMEOUTS } from './control-plane-clients.js';
import type { ControlPlaneEndpoints } from './endpoints.js';
import { StopReasonError } from './task-engine/deps.js';

/**
 * Container `secrets` (ECS: environment variables whose values come from Secrets Manager or Parameter Store),
 * fetched by the agent at container creation with the task execution role's credentials, as the ECS agent
 * does. Values are held only as long as it takes to give them to the runtime: never saved, never logged.
 */
export interface SecretsApi {
  getSecretValue(input: { SecretId: string; VersionStage?: string; VersionId?: string }): Promise<{ SecretString?: string; SecretBinary?: Uint8Array }>;
  /** Parameter Store's GetParameters with decryption; at most 10 names a call. */
  getParameters(names: readonly string[]): Promise<{ values: ReadonlyMap<string, string>; invalid: readonly string[] }>;
}

/** Why a task's secrets could not be had, in ECS's words: the task's stopped reason. */
export class SecretsUnavailableError extends StopReasonError {
  override readonly name = 'SecretsUnavailableError';
}

/** The start of every stopped reason of a task's execution resources, as the ECS agent words it. */
export const PREFIX = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed';

/** `{ name, valueFrom }` pairs → `NAME → value`. Throws SecretsUnavailableError with ECS's stopped reason. */
export async function resolveSecrets(secrets: readonly { name?: string; valueFrom?: string }[], api: SecretsApi | undefined): Promise<Record<string, string>> {
  if (secrets.length === 0) return {};
  if (!api) throw new SecretsUnavailableError(`${PREFIX}: the task has no execution role credentials to fetch its secrets with (set executionRoleArn)`);
  const refs = secrets.map((s) => {
    const ref = parseSecretReference(s.valueFrom ?? '');
    if (!ref) throw new SecretsUnavailableError(`${PREFIX}: invalid valueFrom for secret ${s.name}: ${s.valueFrom}`);
    return { name: s.name ?? '', ref };
  });
  const out: Record<string, string> = {};
  const ssm = refs.filter((r): r is { name: string; ref: Extract<SecretReference, { kind: 'ssm' }> } => r.ref.kind === 'ssm');
  const names = [...new Set(ssm.map((r) => r.ref.name))];
  const values = new Map<string, string>();
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10);
    let answer: Awaited<ReturnType<SecretsApi['getParameters']>>;
    try {
      answer = await api.getParameters(batch);
    } catch (error) {
      throw new SecretsUnavailableError(`${PREFIX}: unable to retrieve secrets from ssm: service call has been retried 1 time(s): ${describe(error)}`);
    }
    if (answer.invalid.length) throw new SecretsUnavailableError(`${PREFIX}: unable to retrieve secrets from ssm: invalid parameters: ${answer.invalid.join(', ')}`);
    for (const [k, v] of answer.values) values.set(k, v);
  }
  for (const r of ssm) out[r.name] = values.get(r.ref.name)!;

  for (const { name, ref } of refs) {
    if (ref.kind !== 'secretsmanager') continue;
    let secret: Awaited<ReturnType<SecretsApi['getSecretValue']>>;
    try {
      secret = await api.getSecretValue({
        SecretId: ref.secretId,
        ...(ref.versionStage ? { VersionStage: ref.versionStage } : {}),
        ...(ref.versionId ? { VersionId: ref.versionId } : {}),
      });
    } catch (error) {
      throw new SecretsUnavailableError(
        `${PREFIX}: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${ref.secretId} from secrets manager: ${describe(error)}`,
      );
    }
    const text = secret.SecretString ?? (secret.SecretBinary ? Buffer.from(secret.SecretBinary).toString('utf8') : '');
    out[name] = ref.jsonKey === undefined ? text : jsonKey(text, ref.jsonKey, ref.secretId);
  }
  return out;
}

function jsonKey(text: string, key: string, secretId: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SecretsUnavailableError(`${PREFIX}: unable to retrieve secret from asm: secret ${secretId} is not a JSON object, so it has no key ${key}`);
  }
  const value = doc && typeof doc === 'object' && Object.hasOwn(doc, key) ? (doc as Record<string, unknown>)[key] : undefined;
  if (value === undefined) throw new SecretsUnavailableError(`${PREFIX}: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key ${key}`);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `Code: message` of an SDK error; never the request (which carries nothing secret, but is noise). */
export function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

/**
 * The two calls, through the control plane's Secrets Manager and SSM APIs (aws-json/client.ts), signed with
 * `credentials` (the task execution role's), failing over between replicas as every agent call does. One pair
 * of clients per use: credentials differ task by task.
 */
export async function sdkSecretsApi(endpoints: ControlPlaneEndpoints, region: string, credentials: AwsCredentialIdentity): Promise<SecretsApi & { destroy(): void }> {
  const common = { endpoints, region, credentials, maxAttempts: 2, timeouts: DEFAULT_TIMEOUTS };
  const secrets = new AwsJsonClient<SecretsManagerOperations>(SECRETS_MANAGER, common);
  const params = new AwsJsonClient<SsmOperations>(SSM, common);
  return {
    async getSecretValue(input) {
      const out = await secrets.send('GetSecretValue', input);
      // A blob arrives base64-encoded.
      return { ...(out.SecretString !== undefined ? { SecretString: out.SecretString } : {}), ...(out.SecretBinary ? { SecretBinary: Buffer.from(out.SecretBinary, 'base64') } : {}) };
    },
    async getParameters(names) {
      const out = await params.send('GetParameters', { Names: [...names], WithDecryption: true });
      return { values: new Map((out.Parameters ?? []).map((p) => [p.Name!, p.Value ?? ''])), invalid: out.InvalidParameters ?? [] };
    },
    destroy() {
      secrets.destroy();
      params.destroy();
    },
  };
}
