import { iamKeys } from '../../state/iam-keys.js';
import { parseIamGroup, parseIamUser, type IamGroupRecord } from '../../state/records/iam.js';
import { transact } from '../../store/transact.js';
import type { Operation } from '../protocol/json-rpc.js';
import { listRecords, mustGet, pathOr, without } from './entities.js';
import type { IamEnv } from './env.js';
import { iamErrors } from './errors.js';
import { iamArn, uniqueId } from './ids.js';
import { page } from './listing.js';
import { userShape } from './users.js';

const groupShape = (env: IamEnv, g: IamGroupRecord) => ({
  Path: g.path,
  GroupName: g.name,
  GroupId: g.id,
  Arn: iamArn(env.accountId, 'group', g.path, g.name),
  CreateDate: g.createDate,
});
const noUser = (name: string) => () => iamErrors.noSuch('user', name);
const noGroup = (name: string) => () => iamErrors.noSuch('group', name);

/** CreateGroup, GetGroup, ListGroups, ListGroupsForUser, AddUserToGroup, RemoveUserFromGroup, DeleteGroup. */
export function groupOperations(env: IamEnv): Record<string, Operation> {
  return {
    async CreateGroup(input: { GroupName: string; Path?: string }) {
      const group: IamGroupRecord = {
        name: input.GroupName,
        id: uniqueId('group'),
        path: pathOr(input.Path),
        createDate: Math.floor(env.now() / 1000),
        inline: {},
        attached: [],
        members: [],
      };
      await transact(env.store, async (tx) => {
        if (await tx.get(iamKeys.group(group.name))) throw iamErrors.exists('Group', group.name);
        tx.putJson(iamKeys.group(group.name), group);
      });
      return { Group: groupShape(env, group) };
    },

    async GetGroup(input: { GroupName: string; Marker?: string; MaxItems?: number }) {
      const { group, users } = await transact(env.store, async (tx) => {
        const group = await mustGet(tx, parseIamGroup, iamKeys.group(input.GroupName), noGroup(input.GroupName));
        const users = [];
        for (const name of group.members) {
          const user = await tx.getRecord(parseIamUser, iamKeys.user(name));
          if (user) users.push(user);
        }
        return { group, users: users.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1)) };
      });
      const { items, ...rest } = page(users, (u) => u.name.toLowerCase(), input);
      return { Group: groupShape(env, group), Users: items.map((u) => userShape(env, u)), ...rest };
    },

    async ListGroups(input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) {
      const prefix = input.PathPrefix ?? '/';
      const groups = (await listRecords(env.store, iamKeys.groups(), parseIamGroup)).filter((g) => g.path.startsWith(prefix));
      const { items, ...rest } = page(groups, (g) => g.name.toLowerCase(), input);
      return { Groups: items.map((g) => groupShape(env, g)), ...rest };
    },

    async ListGroupsForUser(input: { UserName: string; Marker?: string; MaxItems?: number }) {
      const groups = await transact(env.store, async (tx) => {
        const user = await mustGet(tx, parseIamUser, iamKeys.user(input.UserName), noUser(input.UserName));
        const found: IamGroupRecord[] = [];
        for (const name of user.groups) {
          const group = await tx.getRecord(parseIamGroup, iamKeys.group(name));
          if (group) found.push(group);
        }
        return found.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
      });
      const { items, ...rest } = page(groups, (g) => g.name.toLowerCase(), input);
      return { Groups: items.map((g) => groupShape(env, g)), ...rest };
    },

    async AddUserToGroup(input: { GroupName: string; UserName: string }) {
      await transact(env.store, async (tx) => {
        const group = await mustGet(tx, parseIamGroup, iamKeys.group(input.GroupName), noGroup(input.GroupName));
        const user = await mustGet(tx, parseIamUser, iamKeys.user(input.UserName), noUser(input.UserName));
        if (user.groups.includes(group.name)) return;
        if (user.groups.length >= 10) throw iamErrors.limit('Cannot exceed quota for GroupsPerUser: 10');
        tx.putJson(iamKeys.user(user.name), { ...user, groups: [...user.groups, group.name] });
        tx.putJson(iamKeys.group(group.name), { ...group, members: [...group.members, user.name] });
      });
      return {};
    },

    async RemoveUserFromGroup(input: { GroupName: string; UserName: string }) {
      await transact(env.store, async (tx) => {
        const group = await mustGet(tx, parseIamGroup, iamKeys.group(input.GroupName), noGroup(input.GroupName));
        const user = await mustGet(tx, parseIamUser, iamKeys.user(input.UserName), noUser(input.UserName));
        if (!user.groups.includes(group.name)) throw iamErrors.noSuch('user', user.name);
        tx.putJson(iamKeys.user(user.name), { ...user, groups: without(user.groups, group.name) });
        tx.putJson(iamKeys.group(group.name), { ...group, members: without(group.members, user.name) });
      });
      return {};
    },

    async DeleteGroup(input: { GroupName: string }) {
      await transact(env.store, async (tx) => {
        const group = await mustGet(tx, parseIamGroup, iamKeys.group(input.GroupName), noGroup(input.GroupName));
        if (group.members.length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must remove users from group first.');
        if (Object.keys(group.inline).length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must delete policies first.');
        if (group.attached.length > 0) throw iamErrors.deleteConflict('Cannot delete entity, must detach all policies first.');
        tx.delete(iamKeys.group(group.name));
      });
      return {};
    },
  };
}
