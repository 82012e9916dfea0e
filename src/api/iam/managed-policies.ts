import { ServiceError } from '../../model/errors.js';
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamPolicy, type IamPolicyRecord } from '../../state/records/iam.js';
import { transact, type Tx } from '../../store/transact.js';
import type { Operation } from '../protocol/json-rpc.js';
import { listRecords, mergeTags, pathOr, withoutTags } from './entities.js';
import type { IamEnv } from './env.js';
import { checked, iamErrors } from './errors.js';
import { uniqueId } from './ids.js';
import { page } from './listing.js';
import { MANAGED_POLICIES, parsePolicyDocument, policySizeLimits } from './policy-engine.js';
import { attachmentCount, attachmentsOf, awsPolicyView, customerPolicyView, findPolicy, policyShape, type PolicyView } from './policy-view.js';

/** IAM's quota of versions per managed policy. */
export const VERSIONS_PER_POLICY = 5;

const checkDocument = (text: string) => checked(() => parsePolicyDocument(text, 'identity', policySizeLimits.managed()));

/** CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, the version actions and policy tags. */
export function managedPolicyOperations(env: IamEnv): Record<string, Operation> {
  /** The customer policy `arn` names, for a change: AWS's may not be changed. */
  async function own(tx: Tx, arn: string): Promise<IamPolicyRecord> {
    const view = await findPolicy(env, tx, arn);
    if (!view) throw iamErrors.noSuchPolicy(arn);
    if (!view.record) throw new ServiceError('AccessDenied', `Policy ${arn} is an AWS managed policy and cannot be changed.`);
    return view.record;
  }
  const put = (tx: Tx, record: IamPolicyRecord) => tx.putJson(iamKeys.policy(record.name), record);
  const versionShape = (v: { id: string; createDate: number; document?: string }, defaultVersion: string) => ({
    ...(v.document !== undefined ? { Document: encodeURIComponent(v.document) } : {}),
    VersionId: v.id,
    IsDefaultVersion: v.id === defaultVersion,
    CreateDate: v.createDate,
  });

  return {
    async CreatePolicy(input: { PolicyName: string; Path?: string; PolicyDocument: string; Description?: string; Tags?: { Key: string; Value: string }[] }) {
      checkDocument(input.PolicyDocument);
      const tags = mergeTags([], input.Tags ?? []);
      if (!tags) throw iamErrors.limit('Cannot exceed quota for TagsPerPolicy: 50');
      const now = Math.floor(env.now() / 1000);
      const record: IamPolicyRecord = {
        name: input.PolicyName,
        id: uniqueId('policy'),
        path: pathOr(input.Path),
        createDate: now,
        updateDate: now,
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        tags,
        defaultVersion: 'v1',
        versions: [{ id: 'v1', document: input.PolicyDocument, createDate: now }],
        nextVersion: 2,
      };
      await transact(env.store, async (tx) => {
        if (await tx.get(iamKeys.policy(record.name))) {
          throw new ServiceError('EntityAlreadyExists', `A policy called ${record.name} already exists. Duplicate names are not allowed.`);
        }
        put(tx, record);
      });
      return { Policy: policyShape(customerPolicyView(env, record), 0) };
    },

    async GetPolicy(input: { PolicyArn: string }) {
      return transact(env.store, async (tx) => {
        const view = await findPolicy(env, tx, input.PolicyArn);
        if (!view) throw iamErrors.noSuchPolicy(input.PolicyArn);
        return { Policy: policyShape(view, attachmentCount(await attachmentsOf(tx, view.arn))) };
      });
    },

    async ListPolicies(input: { Scope?: 'All' | 'AWS' | 'Local'; OnlyAttached?: boolean; PathPrefix?: string; Marker?: string; MaxItems?: number }) {
      const scope = input.Scope ?? 'All';
      const prefix = input.PathPrefix ?? '/';
      const views: PolicyView[] = [];
      if (scope !== 'Local') views.push(...[...MANAGED_POLICIES.values()].map(awsPolicyView));
      if (scope !== 'AWS') views.push(...(await listRecords(env.store, iamKeys.policies(), parseIamPolicy)).map((r) => customerPolicyView(env, r)));
      const counted = await transact(env.store, async (tx) => {
        const out: { view: PolicyView; count: number }[] = [];
        for (const view of views) if (view.path.startsWith(prefix)) out.push({ view, count: attachmentCount(await attachmentsOf(tx, view.arn)) });
        return out;
      });
      const listed = counted.filter((c) => !input.OnlyAttached || c.count > 0).sort((a, b) => (a.view.arn < b.view.arn ? -1 : 1));
      const { items, ...rest } = page(listed, (c) => c.view.arn, input);
      // ListPolicies leaves tags out, as IAM does.
      return { Policies: items.map((c) => policyShape({ ...c.view, tags: [] }, c.count)), ...rest };
    },

    async DeletePolicy(input: { PolicyArn: string }) {
      await transact(env.store, async (tx) => {
        const record = await own(tx, input.PolicyArn);
        if (attachmentCount(await attachmentsOf(tx, input.PolicyArn)) > 0) throw iamErrors.deleteConflict('Cannot delete a policy attached to entities.');
        if (record.versions.length > 1) {
          throw iamErrors.deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
        }
        tx.delete(iamKeys.policy(record.name));
      });
      return {};
    },

    async CreatePolicyVersion(input: { PolicyArn: string; PolicyDocument: string; SetAsDefault?: boolean }) {
      checkDocument(input.PolicyDocument);
      const now = Math.floor(env.now() / 1000);
      const { version, defaultVersion } = await transact(env.store, async (tx) => {
        const record = await own(tx, input.PolicyArn);
        if (record.versions.length >= VERSIONS_PER_POLICY) {
          throw iamErrors.limit(`A managed policy can have up to ${VERSIONS_PER_POLICY} versions. Before you create a new version, you must delete an existing version.`);
        }
        const version = { id: `v${record.nextVersion}`, document: input.PolicyDocument, createDate: now };
        const defaultVersion = input.SetAsDefault ? version.id : record.defaultVersion;
        put(tx, { ...record, versions: [...record.versions, version], nextVersion: record.nextVersion + 1, defaultVersion, updateDate: now });
        return { version, defaultVersion };
      });
      return { PolicyVersion: versionShape({ id: version.id, createDate: version.createDate }, defaultVersion) };
    },

    async GetPolicyVersion(input: { PolicyArn: string; VersionId: string }) {
      const view = await transact(env.store, (tx) => findPolicy(env, tx, input.PolicyArn));
      const version = view?.versions.find((v) => v.id === input.VersionId);
      if (!view || !version) throw iamErrors.noSuchVersion(input.PolicyArn, input.VersionId);
      return { PolicyVersion: versionShape(version, view.defaultVersion) };
    },

    async ListPolicyVersions(input: { PolicyArn: string; Marker?: string; MaxItems?: number }) {
      const view = await transact(env.store, (tx) => findPolicy(env, tx, input.PolicyArn));
      if (!view) throw iamErrors.noSuchPolicy(input.PolicyArn);
      // Newest first, as IAM lists them.
      const versions = [...view.versions].sort((a, b) => Number(b.id.slice(1)) - Number(a.id.slice(1)));
      const { items, ...rest } = page(versions, (v) => String(1e9 - Number(v.id.slice(1))).padStart(10, '0'), input);
      return { Versions: items.map((v) => versionShape({ id: v.id, createDate: v.createDate }, view.defaultVersion)), ...rest };
    },

    async SetDefaultPolicyVersion(input: { PolicyArn: string; VersionId: string }) {
      await transact(env.store, async (tx) => {
        const record = await own(tx, input.PolicyArn);
        if (!record.versions.some((v) => v.id === input.VersionId)) throw iamErrors.noSuchVersion(input.PolicyArn, input.VersionId);
        put(tx, { ...record, defaultVersion: input.VersionId, updateDate: Math.floor(env.now() / 1000) });
      });
      return {};
    },

    async DeletePolicyVersion(input: { PolicyArn: string; VersionId: string }) {
      await transact(env.store, async (tx) => {
        const record = await own(tx, input.PolicyArn);
        if (!record.versions.some((v) => v.id === input.VersionId)) throw iamErrors.noSuchVersion(input.PolicyArn, input.VersionId);
        if (record.defaultVersion === input.VersionId) throw iamErrors.deleteConflict('Cannot delete the default version of a policy.');
        put(tx, { ...record, versions: record.versions.filter((v) => v.id !== input.VersionId) });
      });
      return {};
    },

    async TagPolicy(input: { PolicyArn: string; Tags: { Key: string; Value: string }[] }) {
      await transact(env.store, async (tx) => {
        const record = await own(tx, input.PolicyArn);
        const tags = mergeTags(record.tags, input.Tags);
        if (!tags) throw iamErrors.limit('Cannot exceed quota for TagsPerPolicy: 50');
        put(tx, { ...record, tags });
      });
      return {};
    },

    async UntagPolicy(input: { PolicyArn: string; TagKeys: string[] }) {
      await transact(env.store, async (tx) => {
        const record = await own(tx, input.PolicyArn);
        put(tx, { ...record, tags: withoutTags(record.tags, input.TagKeys) });
      });
      return {};
    },

    async ListPolicyTags(input: { PolicyArn: string; Marker?: string; MaxItems?: number }) {
      const view = await transact(env.store, (tx) => findPolicy(env, tx, input.PolicyArn));
      if (!view) throw iamErrors.noSuchPolicy(input.PolicyArn);
      const { items, ...rest } = page([...view.tags].sort((a, b) => (a.Key < b.Key ? -1 : 1)), (t) => t.Key, input);
      return { Tags: items, ...rest };
    },
  };
}
