import { recordParser } from './codec.js';
import type { KeyValueTag } from './secrets.js';

export const parameterTypes = ['String', 'StringList', 'SecureString'] as const;
export type ParameterType = (typeof parameterTypes)[number];

export const parameterTiers = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const;
export type ParameterTier = (typeof parameterTiers)[number];

/** What every version of a parameter carries besides its value (GetParameterHistory lists them). */
export interface ParameterVersionMeta {
  readonly version: number;
  readonly type: ParameterType;
  readonly description?: string;
  readonly allowedPattern?: string;
  /** SecureString only: the KMS key named (echoed; berth seals every value under its own key ring). */
  readonly keyId?: string;
  readonly tier: Exclude<ParameterTier, 'Intelligent-Tiering'>;
  readonly dataType: string;
  /** Epoch ms. */
  readonly lastModifiedDate: number;
  readonly lastModifiedUser: string;
}

/**
 * A parameter (SSM Parameter Store): its latest version's metadata, its tags and its labels. Values live in
 * one record per version (`parameters/versions/<name>#<version>`), sealed.
 */
export interface ParameterRecord extends ParameterVersionMeta {
  readonly name: string;
  readonly tags: readonly KeyValueTag[];
  /** Label → the version it is attached to (a label names one version at a time). */
  readonly labels: Readonly<Record<string, number>>;
  /** Versions still stored, oldest first (at most 100). */
  readonly versions: readonly number[];
}

export const parseParameterRecord = recordParser<ParameterRecord>('parameter', {
  name: 'string',
  version: 'number',
  type: 'string',
  tier: 'string',
  dataType: 'string',
  lastModifiedDate: 'number',
  tags: 'array',
  labels: 'object',
  versions: 'array',
});

/** One version of a parameter: its metadata and its value, sealed with the record's key as context. */
export interface ParameterVersionRecord extends ParameterVersionMeta {
  readonly sealed: string;
}

export const parseParameterVersionRecord = recordParser<ParameterVersionRecord>('parameter version', {
  version: 'number',
  type: 'string',
  sealed: 'string',
  lastModifiedDate: 'number',
});
