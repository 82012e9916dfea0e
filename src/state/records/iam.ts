import { recordParser } from './codec.js';

/**
 * IAM's records. Relations an entity has few of (its inline policies, attached policy ARNs, groups, access key
 * ids) are kept in the entity's own record, so that a change and the check guarding it (two keys at most, no
 * delete while something is attached) are one compare-and-swap transaction over the records involved.
 * Timestamps are epoch seconds. Policy documents are kept as the client sent them.
 */

export interface IamTag {
  readonly Key: string;
  readonly Value: string;
}

/** Inline policies by name → document text. */
export type InlinePolicies = Readonly<Record<string, string>>;

interface Entity {
  readonly name: string;
  /** The unique id (AIDA…, AGPA…, AROA…). */
  readonly id: string;
  readonly path: string;
  readonly createDate: number;
  readonly inline: InlinePolicies;
  /** Attached managed policy ARNs. */
  readonly attached: readonly string[];
}

export interface IamUserRecord extends Entity {
  readonly tags: readonly IamTag[];
  readonly groups: readonly string[];
  readonly accessKeys: readonly string[];
}

export interface IamGroupRecord extends Entity {
  /** Member user names. */
  readonly members: readonly string[];
}

export interface IamRoleRecord extends Entity {
  readonly tags: readonly IamTag[];
  readonly trustPolicy: string;
  readonly description?: string;
  readonly maxSessionDuration: number;
}

export interface IamPolicyVersion {
  readonly id: string;
  readonly document: string;
  readonly createDate: number;
}

export interface IamPolicyRecord {
  readonly name: string;
  readonly id: string;
  readonly path: string;
  readonly createDate: number;
  readonly updateDate: number;
  readonly description?: string;
  readonly tags: readonly IamTag[];
  readonly defaultVersion: string;
  readonly versions: readonly IamPolicyVersion[];
  /** The number the next version gets (versions are never renumbered: v1, v2, … even after deletions). */
  readonly nextVersion: number;
}

export interface IamPolicyAttachmentsRecord {
  readonly users: readonly string[];
  readonly groups: readonly string[];
  readonly roles: readonly string[];
}

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface IamAccessKeyRecord {
  readonly id: string;
  readonly userName: string;
  readonly userId: string;
  readonly userArn: string;
  readonly status: AccessKeyStatus;
  readonly createDate: number;
  /** The secret access key sealed (identity/sealer.ts) with the record's key as context: never stored in clear. */
  readonly sealedSecret: string;
}

const entity = { name: 'string', id: 'string', path: 'string', createDate: 'number', inline: 'object', attached: 'array' } as const;

export const parseIamUser = recordParser<IamUserRecord>('IAM user', { ...entity, tags: 'array', groups: 'array', accessKeys: 'array' });
export const parseIamGroup = recordParser<IamGroupRecord>('IAM group', { ...entity, members: 'array' });
export const parseIamRole = recordParser<IamRoleRecord>('IAM role', { ...entity, tags: 'array', trustPolicy: 'string', maxSessionDuration: 'number' });
export const parseIamPolicy = recordParser<IamPolicyRecord>('IAM policy', {
  name: 'string',
  id: 'string',
  path: 'string',
  createDate: 'number',
  updateDate: 'number',
  tags: 'array',
  defaultVersion: 'string',
  versions: 'array',
  nextVersion: 'number',
});
export const parseIamPolicyAttachments = recordParser<IamPolicyAttachmentsRecord>('IAM policy attachments', { users: 'array', groups: 'array', roles: 'array' });
export const parseIamAccessKey = recordParser<IamAccessKeyRecord>('IAM access key', {
  id: 'string',
  userName: 'string',
  userId: 'string',
  userArn: 'string',
  status: 'string',
  createDate: 'number',
  sealedSecret: 'string',
});
