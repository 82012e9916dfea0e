import { iamKeys } from '../../state/iam-keys.js';
import { parseIamRole, type IamRoleRecord } from '../../state/records/iam.js';
import { transact } from '../../store/transact.js';
import type { Operation } from '../protocol/json-rpc.js';
import { listRecords, mergeTags, mustGet, pathOr, withoutTags } from './entities.js';
import type { IamEnv } from './env.js';
import { checked, iamErrors } from './errors.js';
import { iamArn, uniqueId } from './ids.js';
import { page } from './listing.js';
import { parsePolicyDocument, policySizeLimits } from './policy-engine.js';

/** A role as IAM's `Role` shape shows it; the trust policy URL-encoded, as IAM returns documents. */
const roleShape = (env: IamEnv, r: IamRoleRecord, withTags = false) => ({
  Path: r.path,
  RoleName: r.name,
  RoleId: r.id,
  Arn: iamArn(env.accountId, 'role', r.path, r.name),
  CreateDate: r.createDate,
  AssumeRolePolicyDocument: encodeURIComponent(r.trustPolicy),
  ...(r.description !== undefined ? { Description: r.description } : {}),
  MaxSessionDuration: r.maxSessionDuration,
  ...(withTags && r.tags.length > 0 ? { Tags: r.tags } : {}),
});
const noRole = (name: string) => () => iamErrors.noSuch('role', name);
const checkTrust = (text: string) => checked(() => parsePolicyDocument(text, 'trust', policySizeLimits.trust()));

/** CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy, DeleteRole, role tags. */
export function roleOperations(env: IamEnv): Record<string, Operation> {
  return {
    async CreateRole(input: {
      RoleName: string;
      Path?: string;
      AssumeRolePolicyDocument: string;
      Description?: string;
      MaxSessionDuration?: number;
      Tags?: { Key: string; Value: string }[];
    }) {
      checkTrust(input.AssumeRolePolicyDocument);
      const tags = mergeTags([], input.Tags ?? []);
      if (!tags) throw iamErrors.limit('Cannot exceed quota for TagsPerRole: 50');
      const role: IamRoleRecord = {
        name: input.RoleName,
        id: uniqueId('role'),
        path: pathOr(input.Path),
        createDate: Math.floor(env.now() / 1000),
        trustPolicy: input.AssumeRolePolicyDocument,
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        maxSessionDuration: input.MaxSessionDuration ?? 3600,
        tags,
        inline: {},
        attached: [],
      };
      await transact(env.store, async (tx) => {
        if (await tx.get(iamKeys.role(role.name))) throw iamErrors.exists('Role', role.name);
        tx.putJson(iamKeys.role(role.name), role);
      });
      return { Role: roleShape(env, role, true) };
    },

    async GetRole(input: { RoleName: string }) {
      const role = await transact(env.store, (tx) => mustGet(tx, parseIamRole, iamKeys.role(input.RoleName), noRole(input.RoleName)));
      return { Role: { ...roleShape(env, role, true), RoleLastUsed: {} } };
    },

    async ListRoles(input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) {
      const prefix = input.PathPrefix ?? '/';
      const roles = (await listRecords(env.store, iamKeys.roles(), parseIamRole)).filter((r) => r.path.startsWith(prefix));
      const { items, ...rest } = page(roles, (r) => r.name.toLowerCase(), input);
      return { Roles: items.map((r) => roleShape(env, r)), ...rest };
    },

    async UpdateRole(input: { RoleName: string; Description?: string; MaxSessionDuration?: number }) {
      await update(input.RoleName, (r) => ({
        ...r,
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(input.MaxSessionDuration !== undefined ? { maxSessionDuration: input.MaxSessionDuration } : {}),
      }));
      return {};
    },

    async UpdateRoleDescription(input: { RoleName: string; Description: string }) {
      const role = await update(input.RoleName, (r) => ({ ...r, description: input.Description }));
      return { Role: roleShape(env, role, true) };
    },

    async UpdateAssumeRolePolicy(input: { RoleName: string; PolicyDocument: string }) {
      checkTrust(input.PolicyDocument);
      await update(input.RoleName, (r) => ({ ...r, trustPolicy: input.PolicyDocument }));
      return {};
    },

    async DeleteRole(input: { RoleName: string }) {
      await transact(env.store, async (tx) => {
        const role = await mustGet(tx, parseIamRole, iamKeys.role(input.RoleName), noRole(input.RoleName));
        if (Object.keys(role.inline).length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must delete policies first.');
        if (role.attached.length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must detach all policies first.');
        tx.delete(iamKeys.role(role.name));
      });
      return {};
    },

    async TagRole(input: { RoleName: string; Tags: { Key: string; Value: string }[] }) {
      await update(input.RoleName, (r) => {
        const tags = mergeTags(r.tags, input.Tags);
        if (!tags) throw iamErrors.limit('Cannot exceed quota for TagsPerRole: 50');
        return { ...r, tags };
      });
      return {};
    },

    async UntagRole(input: { RoleName: string; TagKeys: string[] }) {
      await update(input.RoleName, (r) => ({ ...r, tags: withoutTags(r.tags, input.TagKeys) }));
      return {};
    },

    async ListRoleTags(input: { RoleName: string; Marker?: string; MaxItems?: number }) {
      const role = await transact(env.store, (tx) => mustGet(tx, parseIamRole, iamKeys.role(input.RoleName), noRole(input.RoleName)));
      const { items, ...rest } = page([...role.tags].sort((a, b) => (a.Key < b.Key ? -1 : 1)), (t) => t.Key, input);
      return { Tags: items, ...rest };
    },
  };

  async function update(name: string, change: (role: IamRoleRecord) => IamRoleRecord): Promise<IamRoleRecord> {
    return transact(env.store, async (tx) => {
      const role = await mustGet(tx, parseIamRole, iamKeys.role(name), noRole(name));
      const updated = change(role);
      tx.putJson(iamKeys.role(role.name), updated);
      return updated;
    });
  }
}
