import { randomInt } from 'node:crypto';
import { invalidParameter } from '../model/errors.js';
import type { ArnScope } from '../model/arn.js';

/** Secrets Manager's alphabet for names: ASCII letters, digits and `/_+=.@-`. */
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Refuse a name Secrets Manager refuses, with its message. */
export function checkSecretName(name: string): void {
  if (!NAME.test(name)) {
    throw invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
  }
}

/** Six random letters and digits: what Secrets Manager appends to a secret's name in its ARN. */
export function randomArnSuffix(): string {
  let out = '';
  for (let i = 0; i < 6; i++) out += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return out;
}

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>`. */
export function secretArn(scope: ArnScope, name: string, suffix: string): string {
  return `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${name}-${suffix}`;
}

const ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]*):(\d*):secret:([^:]+)$/;

/**
 * The names a SecretId may stand for, the most likely first: a name is itself; a full ARN names the secret
 * before its `-XXXXXX` suffix (and must then match the stored ARN exactly); a partial ARN (no suffix) names
 * the whole resource part. Each candidate says whether the stored ARN must equal the id.
 */
export function secretIdCandidates(secretId: string): { name: string; arn?: string }[] {
  const m = ARN.exec(secretId);
  if (!m) return [{ name: secretId }];
  const resource = m[3]!;
  const out: { name: string; arn?: string }[] = [];
  if (/-[A-Za-z0-9]{6}$/.test(resource)) out.push({ name: resource.slice(0, -7), arn: secretId });
  out.push({ name: resource });
  return out;
}

/**
 * An ECS container's `valueFrom` for a secret in Secrets Manager: the secret's ARN (full or partial), then
 * optionally `:json-key:version-stage:version-id` (each may be empty).
 */
export interface SecretReference {
  readonly secretId: string;
  readonly jsonKey?: string;
  readonly versionStage?: string;
  readonly versionId?: string;
}

/** Splits `arn:…:secret:name[-XXXXXX][:json-key:version-stage:version-id]`; undefined when not such an ARN. */
export function parseSecretReference(valueFrom: string): SecretReference | undefined {
  const parts = valueFrom.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'secretsmanager' || parts[5] !== 'secret') return undefined;
  const [jsonKey, versionStage, versionId] = parts.slice(7);
  return {
    secretId: parts.slice(0, 7).join(':'),
    ...(jsonKey ? { jsonKey } : {}),
    ...(versionStage ? { versionStage } : {}),
    ...(versionId ? { versionId } : {}),
  };
}
