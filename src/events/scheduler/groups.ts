/**
 * Schedule groups. `default` always exists (stored only once tagged) and cannot be deleted. DeleteScheduleGroup
 * deletes the group's schedules with it, as the API documents: the group is marked deleting in one commit (no
 * schedule can be created in it from then on, none of its schedules fires), its schedules are deleted a batch a
 * commit, then the group; a crash in between leaves a deleting group whose deletion the leader finishes
 * (finishGroupDeletions, from the firing pass).
 */
import { pageAfterKey } from '../../api/pagination.js';
import type { Store } from '../../store/store.js';
import { rangePages } from '../../store/range-pages.js';
import { transact } from '../../store/transact.js';
import type { EventsEnv } from '../env.js';
import { tagsOf } from '../env.js';
import { schedulerKeys } from '../../state/scheduler-keys.js';
import { parseScheduleGroupRecord, parseScheduleRecord, type ScheduleGroupRecord } from '../../state/records/schedules.js';
import { conflict, DEFAULT_GROUP, groupArn, groupNotFound, MAX_GROUPS, quotaExceeded, seconds, validation } from './env.js';
import { defaultGroup, deleteSchedule, groupIn } from './schedule-store.js';

/** Schedules one deletion commit removes (each is two keys; etcd allows 128 operations a transaction). */
const DELETIONS_PER_COMMIT = 50;

const groupOut = (g: ScheduleGroupRecord) => ({
  Arn: g.arn,
  Name: g.name,
  State: g.deleting === true ? ('DELETING' as const) : ('ACTIVE' as const),
  CreationDate: seconds(g.createdAt),
  LastModificationDate: seconds(g.modifiedAt),
});

export function groupOperations(env: EventsEnv) {
  return {
    CreateScheduleGroup: async (input: { Name: string; Tags?: { Key: string; Value: string }[] }) => {
      if (input.Name === DEFAULT_GROUP) throw conflict(`Schedule group ${DEFAULT_GROUP} already exists.`);
      const now = env.now();
      const record: ScheduleGroupRecord = { name: input.Name, arn: groupArn(env.scope, input.Name), tags: tagsOf(input.Tags), createdAt: now, modifiedAt: now };
      await transact(env.store, async (tx) => {
        if (await tx.get(schedulerKeys.group(input.Name))) throw conflict(`Schedule group ${input.Name} already exists.`);
        const count = (await tx.range(schedulerKeys.groups(), { limit: MAX_GROUPS + 1 })).entries.length;
        if (count >= MAX_GROUPS) throw quotaExceeded(`An account can have at most ${MAX_GROUPS} schedule groups.`);
        tx.putJson(schedulerKeys.group(input.Name), record);
      });
      return { ScheduleGroupArn: record.arn };
    },
    GetScheduleGroup: async (input: { Name: string }) => {
      const group = await transact(env.store, (tx) => groupIn(tx, env.scope, input.Name));
      if (!group) throw groupNotFound(input.Name);
      return groupOut(group);
    },
    ListScheduleGroups: async (input: { NamePrefix?: string; MaxResults?: number; NextToken?: string }) => {
      const stored: ScheduleGroupRecord[] = [];
      for await (const page of rangePages(env.store, schedulerKeys.groups(), 500)) stored.push(...page.map((e) => parseScheduleGroupRecord(e.value, e.key)));
      const all = stored.some((g) => g.name === DEFAULT_GROUP) ? stored : [defaultGroup(env.scope), ...stored].sort((a, b) => (a.name < b.name ? -1 : 1));
      const matching = all.filter((g) => input.NamePrefix === undefined || g.name.startsWith(input.NamePrefix));
      const { items, next } = pageAfterKey(matching, (g) => g.name, input.NextToken, input.MaxResults ?? 100, () => validation('Invalid NextToken.'));
      return { ScheduleGroups: items.map(groupOut), ...(next ? { NextToken: next } : {}) };
    },
    DeleteScheduleGroup: async (input: { Name: string }) => {
      if (input.Name === DEFAULT_GROUP) throw validation(`The ${DEFAULT_GROUP} schedule group cannot be deleted.`);
      await transact(env.store, async (tx) => {
        const group = await tx.getRecord(parseScheduleGroupRecord, schedulerKeys.group(input.Name));
        if (!group) throw groupNotFound(input.Name);
        tx.putJson(schedulerKeys.group(input.Name), { ...group, deleting: true, modifiedAt: env.now() });
      });
      await finishGroupDeletion(env.store, input.Name);
      return {};
    },
  };
}

/** Deletes a deleting group's schedules, a batch a commit, then the group. */
export async function finishGroupDeletion(store: Store, name: string): Promise<void> {
  for (;;) {
    const page = await store.range(schedulerKeys.schedulesOf(name), { limit: DELETIONS_PER_COMMIT });
    if (page.entries.length === 0) break;
    await transact(store, async (tx) => {
      for (const e of page.entries) {
        const current = await tx.getRecord(parseScheduleRecord, e.key);
        if (current) deleteSchedule(tx, current);
      }
    });
  }
  await transact(store, async (tx) => {
    const group = await tx.getRecord(parseScheduleGroupRecord, schedulerKeys.group(name));
    if (group?.deleting === true) tx.delete(schedulerKeys.group(name));
  });
}

/** Finishes the deletion of every group a crash left deleting (the leader's pass). */
export async function finishGroupDeletions(store: Store): Promise<void> {
  for await (const page of rangePages(store, schedulerKeys.groups(), 500)) {
    for (const e of page) if (parseScheduleGroupRecord(e.value, e.key).deleting === true) await finishGroupDeletion(store, parseScheduleGroupRecord(e.value, e.key).name);
  }
}
