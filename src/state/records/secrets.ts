import { recordParser } from './codec.js';

/** A tag as Secrets Manager and SSM both spell it. */
export interface KeyValueTag {
  readonly Key: string;
  readonly Value: string;
}

/** One version of a secret as its secret's record knows it: the value itself is in its own record. */
export interface SecretVersionMeta {
  /** Staging labels attached (AWSCURRENT, AWSPREVIOUS, AWSPENDING or the caller's); none = deprecated. */
  readonly stages: readonly string[];
  /** Epoch ms. */
  readonly createdDate: number;
  /** Epoch ms of the last GetSecretValue of this version (AWS keeps the date only). */
  readonly lastAccessedDate?: number;
}

/**
 * A secret (Secrets Manager) without its values. `deletedDate` is set while DeleteSecret's recovery window
 * runs (the secret is then refused to every operation but DescribeSecret, ListSecrets with
 * IncludePlannedDeletion and RestoreSecret); `purgeAt` is when the leader deletes it for good.
 */
export interface SecretRecord {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  readonly tags: readonly KeyValueTag[];
  /** Epoch ms. */
  readonly createdDate: number;
  readonly lastChangedDate: number;
  readonly lastAccessedDate?: number;
  readonly deletedDate?: number;
  readonly purgeAt?: number;
  /** By version id, in creation order. */
  readonly versions: Readonly<Record<string, SecretVersionMeta>>;
}

export const parseSecretRecord = recordParser<SecretRecord>('secret', {
  name: 'string',
  arn: 'string',
  tags: 'array',
  createdDate: 'number',
  lastChangedDate: 'number',
  versions: 'object',
});

/** One version's value, sealed under the server's key ring with the record's key as context. */
export interface SecretValueRecord {
  readonly sealed: string;
  /** SecretBinary (the sealed bytes are the binary) rather than SecretString (UTF-8 text). */
  readonly binary: boolean;
}

export const parseSecretValueRecord = recordParser<SecretValueRecord>('secret value', { sealed: 'string', binary: 'boolean' });

/** A secret awaiting its purge: the leader's index of what to delete when. */
export interface SecretDeletionRecord {
  readonly purgeAt: number;
}

export const parseSecretDeletionRecord = recordParser<SecretDeletionRecord>('secret deletion', { purgeAt: 'number' });
