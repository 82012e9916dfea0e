import { iamKeys } from '../../state/iam-keys.js';
import { parseIamPolicy, parseIamPolicyAttachments, type IamPolicyAttachmentsRecord, type IamPolicyRecord, type IamPolicyVersion, type IamTag } from '../../state/records/iam.js';
import type { Tx } from '../../store/transact.js';
import type { IamEnv } from './env.js';
import { iamArn, parsePolicyArn } from './ids.js';
import { managedPolicyByArn, type ManagedPolicy } from './policy-engine.js';

/** A managed policy as the API shows it, whether the customer's (a record) or AWS's (shipped with berth). */
export interface PolicyView {
  readonly arn: string;
  readonly name: string;
  readonly path: string;
  readonly id: string;
  readonly description?: string;
  readonly createDate: number;
  readonly updateDate: number;
  readonly defaultVersion: string;
  readonly versions: readonly IamPolicyVersion[];
  readonly tags: readonly IamTag[];
  /** The customer's record; undefined for an AWS managed policy, which nobody may change. */
  readonly record?: IamPolicyRecord;
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function awsPolicyView(p: ManagedPolicy): PolicyView {
  return {
    arn: p.arn,
    name: p.name,
    path: p.path,
    id: p.policyId,
    description: p.description,
    createDate: seconds(p.createDate),
    updateDate: seconds(p.updateDate),
    defaultVersion: p.defaultVersionId,
    versions: [{ id: p.defaultVersionId, document: p.document, createDate: seconds(p.updateDate) }],
    tags: [],
  };
}

export function customerPolicyView(env: IamEnv, record: IamPolicyRecord): PolicyView {
  return {
    arn: iamArn(env.accountId, 'policy', record.path, record.name),
    name: record.name,
    path: record.path,
    id: record.id,
    ...(record.description !== undefined ? { description: record.description } : {}),
    createDate: record.createDate,
    updateDate: record.updateDate,
    defaultVersion: record.defaultVersion,
    versions: record.versions,
    tags: record.tags,
    record,
  };
}

/** The policy an ARN names, read in `tx` (AWS's from the shipped set), or undefined. */
export async function findPolicy(env: IamEnv, tx: Tx, arn: string): Promise<PolicyView | undefined> {
  const parts = parsePolicyArn(arn);
  if (!parts) return undefined;
  if (parts.account === 'aws') {
    const shipped = managedPolicyByArn(arn);
    return shipped ? awsPolicyView(shipped) : undefined;
  }
  if (parts.account !== env.accountId) return undefined;
  const record = await tx.getRecord(parseIamPolicy, iamKeys.policy(parts.name));
  return record && record.path === parts.path && record.name === parts.name ? customerPolicyView(env, record) : undefined;
}

export const NO_ATTACHMENTS: IamPolicyAttachmentsRecord = { users: [], groups: [], roles: [] };

export async function attachmentsOf(tx: Tx, arn: string): Promise<IamPolicyAttachmentsRecord> {
  return (await tx.getRecord(parseIamPolicyAttachments, iamKeys.policyAttachments(arn))) ?? NO_ATTACHMENTS;
}

export const attachmentCount = (a: IamPolicyAttachmentsRecord) => a.users.length + a.groups.length + a.roles.length;

/** IAM's `Policy` shape. */
export function policyShape(view: PolicyView, attachments: number): object {
  return {
    PolicyName: view.name,
    PolicyId: view.id,
    Arn: view.arn,
    Path: view.path,
    DefaultVersionId: view.defaultVersion,
    AttachmentCount: attachments,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    ...(view.description !== undefined ? { Description: view.description } : {}),
    CreateDate: view.createDate,
    UpdateDate: view.updateDate,
    ...(view.tags.length > 0 ? { Tags: view.tags } : {}),
  };
}
