import { iamKeys } from '../../state/iam-keys.js';
import { parseIamAccessKey, parseIamUser, type IamUserRecord } from '../../state/records/iam.js';
import { transact } from '../../store/transact.js';
import type { Operation } from '../protocol/json-rpc.js';
import { listRecords, mergeTags, mustGet, pathOr, withoutTags } from './entities.js';
import type { IamEnv } from './env.js';
import { iamErrors } from './errors.js';
import { iamArn, uniqueId } from './ids.js';
import { page } from './listing.js';

/** A user as IAM's `User` shape shows it (tags only where IAM shows them: GetUser, CreateUser). */
export function userShape(env: IamEnv, user: IamUserRecord, withTags = false): object {
  return {
    Path: user.path,
    UserName: user.name,
    UserId: user.id,
    Arn: iamArn(env.accountId, 'user', user.path, user.name),
    CreateDate: user.createDate,
    ...(withTags && user.tags.length > 0 ? { Tags: user.tags } : {}),
  };
}

const missing = (name: string) => () => iamErrors.noSuch('user', name);

/** CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser and the user tag actions. */
export function userOperations(env: IamEnv): Record<string, Operation> {
  return {
    async CreateUser(input: { UserName: string; Path?: string; Tags?: { Key: string; Value: string }[] }) {
      const tags = mergeTags([], input.Tags ?? []);
      if (!tags) throw iamErrors.limit('Cannot exceed quota for TagsPerUser: 50');
      const user: IamUserRecord = {
        name: input.UserName,
        id: uniqueId('user'),
        path: pathOr(input.Path),
        createDate: Math.floor(env.now() / 1000),
        tags,
        inline: {},
        attached: [],
        groups: [],
        accessKeys: [],
      };
      await transact(env.store, async (tx) => {
        if (await tx.get(iamKeys.user(user.name))) throw iamErrors.exists('User', user.name);
        tx.putJson(iamKeys.user(user.name), user);
      });
      return { User: userShape(env, user, true) };
    },

    async GetUser(input: { UserName?: string }, call) {
      let name = input.UserName;
      if (name === undefined) {
        const p = call.principal;
        // Without a name, the caller: the root user has no name or path in IAM's answer.
        if (p.type === 'Root') return { User: { UserId: p.accountId, Arn: p.arn, CreateDate: 0 } };
        if (p.type !== 'User') throw iamErrors.validation('Must specify userName when calling with non-User credentials');
        name = p.userName;
      }
      const user = await transact(env.store, (tx) => mustGet(tx, parseIamUser, iamKeys.user(name), missing(name)));
      return { User: userShape(env, user, true) };
    },

    async ListUsers(input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) {
      const prefix = input.PathPrefix ?? '/';
      const users = (await listRecords(env.store, iamKeys.users(), parseIamUser)).filter((u) => u.path.startsWith(prefix));
      const { items, ...rest } = page(users, (u) => u.name.toLowerCase(), input);
      return { Users: items.map((u) => userShape(env, u)), ...rest };
    },

    async UpdateUser(input: { UserName: string; NewPath?: string; NewUserName?: string }) {
      await transact(env.store, async (tx) => {
        const user = await mustGet(tx, parseIamUser, iamKeys.user(input.UserName), missing(input.UserName));
        const name = input.NewUserName ?? user.name;
        const renamed = name.toLowerCase() !== user.name.toLowerCase();
        if (renamed && (await tx.get(iamKeys.user(name)))) throw iamErrors.exists('User', name);
        const updated: IamUserRecord = { ...user, name, path: input.NewPath ?? user.path };
        if (renamed) tx.delete(iamKeys.user(user.name));
        tx.putJson(iamKeys.user(name), updated);
        // What names the user elsewhere follows: its access keys (the principal SigV4 gives), its groups' member lists.
        for (const id of user.accessKeys) {
          const key = await tx.getRecord(parseIamAccessKey, iamKeys.accessKey(id));
          if (key) tx.putJson(iamKeys.accessKey(id), { ...key, userName: name, userArn: iamArn(env.accountId, 'user', updated.path, name) });
        }
        for (const groupName of user.groups) {
          const key = iamKeys.group(groupName);
          const entry = await tx.get(key);
          if (!entry) continue;
          const group = JSON.parse(entry.value) as { members: string[] };
          tx.putJson(key, { ...group, members: group.members.map((m) => (m === user.name ? name : m)) });
        }
        for (const arn of user.attached) {
          const key = iamKeys.policyAttachments(arn);
          const entry = await tx.get(key);
          if (!entry) continue;
          const attachments = JSON.parse(entry.value) as { users: string[] };
          tx.putJson(key, { ...attachments, users: attachments.users.map((m) => (m === user.name ? name : m)) });
        }
      });
      await env.credentialsCaughtUp?.();
      return {};
    },

    async DeleteUser(input: { UserName: string }) {
      await transact(env.store, async (tx) => {
        const user = await mustGet(tx, parseIamUser, iamKeys.user(input.UserName), missing(input.UserName));
        if (user.accessKeys.length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must delete access keys first.');
        if (Object.keys(user.inline).length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must delete policies first.');
        if (user.attached.length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must detach all policies first.');
        if (user.groups.length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must remove users from group first.');
        tx.delete(iamKeys.user(user.name));
      });
      return {};
    },

    async TagUser(input: { UserName: string; Tags: { Key: string; Value: string }[] }) {
      await transact(env.store, async (tx) => {
        const user = await mustGet(tx, parseIamUser, iamKeys.user(input.UserName), missing(input.UserName));
        const tags = mergeTags(user.tags, input.Tags);
        if (!tags) throw iamErrors.limit('Cannot exceed quota for TagsPerUser: 50');
        tx.putJson(iamKeys.user(user.name), { ...user, tags });
      });
      return {};
    },

    async UntagUser(input: { UserName: string; TagKeys: string[] }) {
      await transact(env.store, async (tx) => {
        const user = await mustGet(tx, parseIamUser, iamKeys.user(input.UserName), missing(input.UserName));
        tx.putJson(iamKeys.user(user.name), { ...user, tags: withoutTags(user.tags, input.TagKeys) });
      });
      return {};
    },

    async ListUserTags(input: { UserName: string; Marker?: string; MaxItems?: number }) {
      const user = await transact(env.store, (tx) => mustGet(tx, parseIamUser, iamKeys.user(input.UserName), missing(input.UserName)));
      const { items, ...rest } = page([...user.tags].sort((a, b) => (a.Key < b.Key ? -1 : 1)), (t) => t.Key, input);
      return { Tags: items, ...rest };
    },
  };
}
