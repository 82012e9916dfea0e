import { createHash, randomUUID } from 'node:crypto';
import type { Sealer } from '../identity/sealer.js';
import type { ArnScope } from '../model/arn.js';
import { invalidParameter } from '../model/errors.js';
import { keys } from '../state/keys.js';
import {
  parseSecretRecord,
  parseSecretValueRecord,
  type KeyValueTag,
  type SecretRecord,
  type SecretValueRecord,
  type SecretVersionMeta,
} from '../state/records/secrets.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { secretErrors } from './errors.js';
import { checkSecretName, randomArnSuffix, secretArn, secretIdCandidates } from './secret-ids.js';
import { AWSCURRENT, attachStages, versionWithStage } from './secret-stages.js';

/** What Secrets Manager needs from the server around it. */
export interface SecretsEnv {
  readonly store: Store;
  readonly sealer: Sealer;
  readonly scope: ArnScope;
  /** Milliseconds since the epoch; injectable so tests move time (recovery windows). */
  readonly now: () => number;
}

/** A secret value as the API carries it: text, or bytes. */
export type SecretValue = { readonly string: string } | { readonly binary: Buffer };

/** Versions kept per secret: the oldest deprecated ones go beyond this (AWS keeps about 100). */
const MAX_VERSIONS = 100;

/** A version's value, opened, with what GetSecretValue answers beside it. */
export interface OpenedVersion {
  readonly secret: SecretRecord;
  readonly versionId: string;
  readonly meta: SecretVersionMeta;
  readonly value: SecretValue;
}

/**
 * Secrets and their versions in the Store: every change is one transaction whose reads are compared at
 * commit (see store/transact.ts), so replicas never lose each other's writes. Values are sealed before they
 * leave this module and opened only for GetSecretValue (and the container injection that comes later).
 */
export class SecretVault {
  constructor(readonly env: SecretsEnv) {}

  /** The live secret `secretId` names (name, full or partial ARN); ResourceNotFound / marked-for-deletion otherwise. */
  async find(tx: Tx | undefined, secretId: string, options: { allowDeleted?: boolean } = {}): Promise<SecretRecord> {
    for (const candidate of secretIdCandidates(secretId)) {
      const key = keys.secret(candidate.name);
      const record = tx ? await tx.getRecord(parseSecretRecord, key) : await readRecord(this.env.store, parseSecretRecord, key);
      if (!record || (candidate.arn !== undefined && record.arn !== candidate.arn)) continue;
      if (record.deletedDate !== undefined && !options.allowDeleted) throw secretErrors.markedForDeletion();
      return record;
    }
    throw secretErrors.notFound();
  }

  async create(input: {
    name: string;
    token?: string;
    description?: string;
    kmsKeyId?: string;
    tags?: readonly KeyValueTag[];
    value?: SecretValue;
  }): Promise<{ secret: SecretRecord; versionId?: string }> {
    checkSecretName(input.name);
    const now = this.env.now();
    return transact(this.env.store, async (tx) => {
      const existing = await tx.getRecord(parseSecretRecord, keys.secret(input.name));
      if (existing) {
        if (existing.deletedDate !== undefined) throw secretErrors.nameScheduledForDeletion();
        // A retry of the same CreateSecret (same token, same value) answers as the first did.
        if (input.token !== undefined && input.value && Object.hasOwn(existing.versions, input.token)) {
          await this.checkSameValue(tx, existing.name, input.token, input.value);
          return { secret: existing, versionId: input.token };
        }
        throw secretErrors.exists(input.name);
      }
      const versionId = input.value ? (input.token ?? randomUUID()) : undefined;
      const secret: SecretRecord = {
        name: input.name,
        arn: secretArn(this.env.scope, input.name, randomArnSuffix()),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.kmsKeyId !== undefined ? { kmsKeyId: input.kmsKeyId } : {}),
        tags: input.tags ?? [],
        createdDate: now,
        lastChangedDate: now,
        versions: versionId ? { [versionId]: { stages: [AWSCURRENT], createdDate: now } } : {},
      };
      tx.putJson(keys.secret(input.name), secret);
      if (versionId) this.writeValue(tx, input.name, versionId, input.value!);
      return { secret, ...(versionId ? { versionId } : {}) };
    });
  }

  /** A new version (PutSecretValue, UpdateSecret with a value): it takes `stages` (default AWSCURRENT). */
  async putValue(
    secretId: string,
    value: SecretValue,
    token: string | undefined,
    stages?: readonly string[],
    patch: (secret: SecretRecord) => SecretRecord = (s) => s,
  ): Promise<{ secret: SecretRecord; versionId: string; stages: readonly string[] }> {
    const now = this.env.now();
    const versionId = token ?? randomUUID();
    return transact(this.env.store, async (tx) => {
      const secret = await this.find(tx, secretId);
      if (Object.hasOwn(secret.versions, versionId)) {
        await this.checkSameValue(tx, secret.name, versionId, value);
        return { secret, versionId, stages: secret.versions[versionId]!.stages };
      }
      let versions = attachStages(secret.versions, versionId, stages ?? [AWSCURRENT], now);
      versions = this.dropOldest(tx, secret.name, versions);
      const updated: SecretRecord = { ...patch(secret), versions, lastChangedDate: now };
      tx.putJson(keys.secret(secret.name), updated);
      this.writeValue(tx, secret.name, versionId, value);
      return { secret: updated, versionId, stages: versions[versionId]!.stages };
    });
  }

  /** GetSecretValue: by VersionId, VersionStage (default AWSCURRENT), or both (they must agree). */
  async getValue(secretId: string, versionId?: string, versionStage?: string): Promise<OpenedVersion> {
    const now = this.env.now();
    return transact(this.env.store, async (tx) => {
      const secret = await this.find(tx, secretId);
      let id = versionId;
      if (id === undefined) {
        id = versionWithStage(secret.versions, versionStage ?? AWSCURRENT);
        if (id === undefined) throw secretErrors.versionNotFound('staging label', versionStage ?? AWSCURRENT);
      }
      const meta = Object.hasOwn(secret.versions, id) ? secret.versions[id] : undefined;
      if (!meta || (versionStage !== undefined && !meta.stages.includes(versionStage))) {
        throw versionStage !== undefined && meta ? secretErrors.versionNotFound('staging label', versionStage) : secretErrors.versionNotFound('VersionId', id);
      }
      const key = keys.secretValue(secret.name, id);
      const stored = await tx.getRecord(parseSecretValueRecord, key);
      if (!stored) throw secretErrors.versionNotFound('VersionId', id);
      // LastAccessedDate is kept to the day (as AWS does), so a read writes at most once a day per secret.
      const today = Math.floor(now / 86_400_000) * 86_400_000;
      if (secret.lastAccessedDate !== today) {
        tx.putJson(keys.secret(secret.name), {
          ...secret,
          lastAccessedDate: today,
          versions: { ...secret.versions, [id]: { ...meta, lastAccessedDate: today } },
        } satisfies SecretRecord);
      }
      return { secret, versionId: id, meta, value: this.open(key, stored) };
    });
  }

  /** Change a live secret's record (UpdateSecret's description and key, tags, stages). */
  async change(secretId: string, fn: (secret: SecretRecord, tx: Tx) => SecretRecord | Promise<SecretRecord>, options: { allowDeleted?: boolean } = {}): Promise<SecretRecord> {
    return transact(this.env.store, async (tx) => {
      const secret = await this.find(tx, secretId, options);
      const updated = await fn(secret, tx);
      tx.putJson(keys.secret(secret.name), updated);
      return updated;
    });
  }

  private writeValue(tx: Tx, name: string, versionId: string, value: SecretValue): void {
    const key = keys.secretValue(name, versionId);
    const record: SecretValueRecord =
      'string' in value ? { sealed: this.env.sealer.seal(value.string, key), binary: false } : { sealed: this.env.sealer.seal(value.binary, key), binary: true };
    tx.putJson(key, record);
  }

  private open(key: string, stored: SecretValueRecord): SecretValue {
    const bytes = this.env.sealer.open(stored.sealed, key);
    return stored.binary ? { binary: bytes } : { string: bytes.toString('utf8') };
  }

  /** Idempotent retries: the same token with the same value is a no-op, with another value an error. */
  private async checkSameValue(tx: Tx, name: string, versionId: string, value: SecretValue): Promise<void> {
    const key = keys.secretValue(name, versionId);
    const stored = await tx.getRecord(parseSecretValueRecord, key);
    if (!stored) throw secretErrors.versionImmutable();
    const had = this.open(key, stored);
    if (digest(had) !== digest(value)) throw secretErrors.versionImmutable();
  }

  /** Beyond MAX_VERSIONS, the oldest versions without a staging label are deleted. */
  private dropOldest(tx: Tx, name: string, versions: Record<string, SecretVersionMeta>): Record<string, SecretVersionMeta> {
    const ids = Object.keys(versions);
    if (ids.length <= MAX_VERSIONS) return versions;
    const deprecated = ids.filter((id) => versions[id]!.stages.length === 0).sort((a, b) => versions[a]!.createdDate - versions[b]!.createdDate);
    const out = { ...versions };
    for (const id of deprecated.slice(0, ids.length - MAX_VERSIONS)) {
      delete out[id];
      tx.delete(keys.secretValue(name, id));
    }
    return out;
  }
}

function digest(value: SecretValue): string {
  const hash = createHash('sha256');
  if ('string' in value) hash.update('s').update(value.string, 'utf8');
  else hash.update('b').update(value.binary);
  return hash.digest('hex');
}

/** The value of a CreateSecret/PutSecretValue/UpdateSecret request: one of the two members, never both. */
export function valueOf(input: { SecretString?: string; SecretBinary?: string }): SecretValue | undefined {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) throw secretErrors.bothValues();
  if (input.SecretString !== undefined) return { string: input.SecretString };
  if (input.SecretBinary !== undefined) {
    const binary = Buffer.from(input.SecretBinary, 'base64');
    if (binary.length < 1 || binary.length > 65536) throw invalidParameter('SecretBinary must be between 1 and 65536 bytes.');
    return { binary };
  }
  return undefined;
}

/**
 * A secret's tags as `{Key: Value}` by its ARN (or name), for aws:ResourceTag/… in the authorization step; a
 * secret scheduled for deletion keeps its tags; undefined when there is no such secret.
 */
export function secretTagLookup(env: SecretsEnv): (secretId: string) => Promise<Record<string, string> | undefined> {
  const vault = new SecretVault(env);
  return (secretId) =>
    vault.find(undefined, secretId, { allowDeleted: true }).then(
      (s) => Object.fromEntries(s.tags.map((t) => [t.Key, t.Value])),
      () => undefined,
    );
}
