import type { Sealer } from '../identity/sealer.js';
import type { ArnScope } from '../model/arn.js';
import { ServiceError } from '../model/errors.js';
import { keys } from '../state/keys.js';
import {
  parseParameterRecord,
  parseParameterVersionRecord,
  type ParameterRecord,
  type ParameterTier,
  type ParameterType,
  type ParameterVersionMeta,
  type ParameterVersionRecord,
} from '../state/records/parameters.js';
import type { KeyValueTag } from '../state/records/secrets.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { parameterErrors } from './errors.js';
import { checkParameterName, parameterNameCandidates, type ParameterSelector } from './parameter-names.js';

/** What Parameter Store needs from the server around it. */
export interface ParametersEnv {
  readonly store: Store;
  readonly sealer: Sealer;
  readonly scope: ArnScope;
  readonly now: () => number;
  /** Parameters an account may hold (AWS: 10,000 in the standard tier). */
  readonly maxParameters?: number;
}

/** Versions a parameter keeps (AWS: 100; the oldest goes when a new one comes, unless it has a label). */
export const MAX_PARAMETER_VERSIONS = 100;
const STANDARD_VALUE_CHARS = 4096;
const ADVANCED_VALUE_CHARS = 8192;
const MAX_LABELS_PER_VERSION = 10;
const DEFAULT_MAX_PARAMETERS = 10_000;
/** A KMS key as SSM accepts one: an alias, a key id (or multi-Region key id), or a key's or alias's ARN. */
const KMS_KEY_ID = /^(alias\/[A-Za-z0-9/_-]+|(mrk-)?[0-9a-f]{8}-?[0-9a-f-]{0,27}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+))$/;

export interface PutInput {
  readonly name: string;
  readonly value: string;
  readonly type?: ParameterType;
  readonly description?: string;
  readonly keyId?: string;
  readonly overwrite: boolean;
  readonly allowedPattern?: string;
  readonly tags?: readonly KeyValueTag[];
  readonly tier?: ParameterTier;
  readonly dataType?: string;
  readonly user: string;
}

/** A version read back: its metadata, its value opened. */
export interface ParameterValue {
  readonly record: ParameterRecord;
  readonly version: ParameterVersionRecord;
  readonly value: string;
}

/**
 * Parameters and their versions in the Store, each change one transaction that compares what it read (see
 * store/transact.ts). Every value is sealed (plain String parameters too: simpler, and nothing is lost).
 */
export class ParameterStore {
  constructor(readonly env: ParametersEnv) {}

  async put(input: PutInput): Promise<{ version: number; tier: string }> {
    checkParameterName(input.name);
    if (input.tags?.length && input.overwrite) throw parameterErrors.tagsWithOverwrite();
    const dataType = input.dataType ?? 'text';
    if (dataType !== 'text') throw parameterErrors.validation(`The following data type is not supported: ${dataType} (berth supports text.)`);
    if (input.allowedPattern !== undefined) checkPattern(input.allowedPattern, input.value);
    if (input.type === 'StringList' && input.value.split(',').some((v) => v === '')) {
      throw parameterErrors.validation('A StringList parameter value is a comma-separated list of values; none of them may be empty.');
    }
    if (input.keyId !== undefined && !KMS_KEY_ID.test(input.keyId)) throw new ServiceError('InvalidKeyId', `Invalid KeyId: ${input.keyId}`);
    const now = this.env.now();
    // Counted outside the transaction: replicas creating at the same moment may pass the limit by a few.
    const count = await this.env.store.count(keys.parameters());
    return transact(this.env.store, async (tx) => {
      const key = keys.parameter(input.name);
      const existing = await tx.getRecord(parseParameterRecord, key);
      if (existing && !input.overwrite) throw parameterErrors.exists();
      if (!existing && count >= (this.env.maxParameters ?? DEFAULT_MAX_PARAMETERS)) {
        throw new ServiceError('ParameterLimitExceeded', 'You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again.');
      }
      const type = input.type ?? existing?.type;
      if (!type) throw parameterErrors.validation('A parameter type is required when you create a parameter.');
      if (input.keyId !== undefined && type !== 'SecureString') throw parameterErrors.validation('KeyId is required for SecureString type parameter only.');
      const tier = input.tier === 'Advanced' || (input.tier === undefined && existing?.tier === 'Advanced') || (input.tier === 'Intelligent-Tiering' && input.value.length > STANDARD_VALUE_CHARS) ? 'Advanced' : 'Standard';
      if (existing?.tier === 'Advanced' && tier === 'Standard' && input.tier === 'Standard') {
        throw parameterErrors.validation('This parameter uses the advanced-parameter tier. You can\'t downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.');
      }
      const limit = tier === 'Advanced' ? ADVANCED_VALUE_CHARS : STANDARD_VALUE_CHARS;
      if (input.value.length > limit) {
        throw parameterErrors.validation(
          tier === 'Advanced'
            ? `Advanced tier parameters support a maximum parameter value of ${ADVANCED_VALUE_CHARS} characters.`
            : `Standard tier parameters support a maximum parameter value of ${STANDARD_VALUE_CHARS} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
        );
      }
      const allowedPattern = input.allowedPattern ?? existing?.allowedPattern;
      if (input.allowedPattern === undefined && allowedPattern !== undefined) checkPattern(allowedPattern, input.value);
      const version = (existing?.version ?? 0) + 1;
      let versions = [...(existing?.versions ?? []), version];
      const labels = { ...(existing?.labels ?? {}) };
      if (versions.length > MAX_PARAMETER_VERSIONS) {
        const oldest = versions[0]!;
        if (Object.values(labels).includes(oldest)) {
          throw new ServiceError(
            'ParameterMaxVersionLimitExceeded',
            `You attempted to create a new version of ${input.name} by calling the PutParameter API with the overwrite flag. Version ${oldest}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
          );
        }
        tx.delete(keys.parameterVersion(input.name, oldest));
        versions = versions.slice(1);
      }
      const keyId = type === 'SecureString' ? (input.keyId ?? (existing?.type === 'SecureString' ? existing.keyId : undefined) ?? 'alias/aws/ssm') : undefined;
      const description = input.description ?? existing?.description;
      const meta: ParameterVersionMeta = {
        version,
        type,
        ...(description !== undefined ? { description } : {}),
        ...(allowedPattern !== undefined ? { allowedPattern } : {}),
        ...(keyId !== undefined ? { keyId } : {}),
        tier,
        dataType,
        lastModifiedDate: now,
        lastModifiedUser: input.user,
      };
      const versionKey = keys.parameterVersion(input.name, version);
      tx.putJson(versionKey, { ...meta, sealed: this.env.sealer.seal(input.value, versionKey) } satisfies ParameterVersionRecord);
      tx.putJson(key, { ...meta, name: input.name, tags: existing?.tags ?? input.tags ?? [], labels, versions } satisfies ParameterRecord);
      return { version, tier };
    });
  }

  /** The parameter a name or ARN names, or undefined. */
  async find(nameOrArn: string, tx?: Tx): Promise<ParameterRecord | undefined> {
    for (const name of parameterNameCandidates(nameOrArn)) {
      const key = keys.parameter(name);
      const record = tx ? await tx.getRecord(parseParameterRecord, key) : await readRecord(this.env.store, parseParameterRecord, key);
      if (record) return record;
    }
    return undefined;
  }

  /** A version by selector (latest by default), its value opened. */
  async get(selector: ParameterSelector): Promise<ParameterValue> {
    const record = await this.find(selector.name);
    if (!record) throw parameterErrors.notFound();
    let version = record.version;
    if (selector.version !== undefined) version = selector.version;
    if (selector.label !== undefined) {
      if (!Object.hasOwn(record.labels, selector.label)) throw parameterErrors.notFound();
      const labelled = record.labels[selector.label]!;
      version = labelled;
    }
    return this.openVersion(record, version);
  }

  async openVersion(record: ParameterRecord, version: number): Promise<ParameterValue> {
    const key = keys.parameterVersion(record.name, version);
    const stored = await readRecord(this.env.store, parseParameterVersionRecord, key);
    if (!stored) throw parameterErrors.versionNotFound(record.name, version);
    return { record, version: stored, value: this.env.sealer.open(stored.sealed, key).toString('utf8') };
  }

  /** Every stored version, oldest first, values opened only when asked. */
  async history(record: ParameterRecord): Promise<ParameterVersionRecord[]> {
    const { entries } = await this.env.store.range(keys.parameterVersionsOf(record.name));
    return entries.map((e) => parseParameterVersionRecord(e.value, e.key));
  }

  openSealed(name: string, version: ParameterVersionRecord): string {
    return this.env.sealer.open(version.sealed, keys.parameterVersion(name, version.version)).toString('utf8');
  }

  /** Delete a parameter and all its versions; false when there is none. */
  async delete(nameOrArn: string): Promise<boolean> {
    return transact(this.env.store, async (tx) => {
      const record = await this.find(nameOrArn, tx);
      if (!record) return false;
      for (const v of record.versions) tx.delete(keys.parameterVersion(record.name, v));
      tx.delete(keys.parameter(record.name));
      return true;
    });
  }

  /** Change a parameter's record (tags, labels) in a transaction; ParameterNotFound-like `missing` when absent. */
  async change(nameOrArn: string, missing: () => Error, fn: (record: ParameterRecord) => ParameterRecord): Promise<ParameterRecord> {
    return transact(this.env.store, async (tx) => {
      const record = await this.find(nameOrArn, tx);
      if (!record) throw missing();
      const updated = fn(record);
      tx.putJson(keys.parameter(record.name), updated);
      return updated;
    });
  }

  /** LabelParameterVersion: attach `labels` to `version` (default the latest), moving them off other versions. */
  async label(nameOrArn: string, version: number | undefined, labels: readonly string[], valid: (label: string) => boolean): Promise<{ version: number; invalid: string[] }> {
    const invalid = labels.filter((l) => !valid(l));
    let target = 0;
    await this.change(nameOrArn, () => parameterErrors.notFound(), (record) => {
      target = version ?? record.version;
      if (!record.versions.includes(target)) throw parameterErrors.versionNotFound(record.name, target);
      const next = { ...record.labels };
      // Defined, not assigned: a label named `__proto__` is a label like any other.
      for (const l of labels) if (valid(l)) Object.defineProperty(next, l, { value: target, enumerable: true, writable: true, configurable: true });
      if (Object.values(next).filter((v) => v === target).length > MAX_LABELS_PER_VERSION) {
        throw new ServiceError('ParameterVersionLabelLimitExceeded', 'A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.');
      }
      return { ...record, labels: next };
    });
    return { version: target, invalid };
  }
}

/** The value must match AllowedPattern whole (a Java-style `matches`), and the pattern must compile. */
function checkPattern(pattern: string, value: string): void {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    throw new ServiceError('InvalidAllowedPatternException', 'The request includes an invalid regular expression in AllowedPattern.');
  }
  if (!re.test(value)) throw new ServiceError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`);
}
