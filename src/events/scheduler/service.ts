import type { JsonService, Operation } from '../../api/protocol/json-rpc.js';
import { loadServiceModel } from '../../api/protocol/service-model.js';
import { transact } from '../../store/transact.js';
import { tagList, tagsOf, type EventsEnv } from '../env.js';
import { schedulerKeys } from '../../state/scheduler-keys.js';
import type { ScheduleGroupRecord } from '../../state/records/schedules.js';
import { groupNotFound, validation } from './env.js';
import { groupOperations } from './groups.js';
import { schedulerActions } from './iam-actions.js';
import { activeGroupIn } from './schedule-store.js';
import { scheduleOperations } from './schedules.js';

/** Tags a schedule group keeps (TagList's limit in the model). */
const MAX_TAGS = 200;

/**
 * Amazon EventBridge Scheduler (REST-JSON, signed for `scheduler`): schedules and schedule groups, tags on groups
 * (schedules take none, as the model's TagResourceArn says). Schedules fire from the leader's EventBridge pass
 * (firing.ts) and run their ECS target through the same delivery path as rules; see docs/events.md.
 */
export function schedulerService(env: EventsEnv): JsonService {
  const operations: Record<string, Operation> = {
    ...(scheduleOperations(env) as Record<string, Operation>),
    ...(groupOperations(env) as Record<string, Operation>),
    ListTagsForResource: async (input: { ResourceArn: string }) => ({ Tags: tagList((await transact(env.store, (tx) => groupOfArn(env, tx, input.ResourceArn))).tags) }),
    TagResource: async (input: { ResourceArn: string; Tags: { Key: string; Value: string }[] }) => {
      await changeTags(env, input.ResourceArn, (tags) => ({ ...tags, ...tagsOf(input.Tags) }));
      return {};
    },
    UntagResource: async (input: { ResourceArn: string; TagKeys: string[] }) => {
      await changeTags(env, input.ResourceArn, (tags) => Object.fromEntries(Object.entries(tags).filter(([k]) => !input.TagKeys.includes(k))));
      return {};
    },
  };
  return {
    targetPrefix: 'Scheduler',
    signingNames: ['scheduler'],
    model: loadServiceModel('scheduler-2021-06-30.json'),
    operations,
    actions: schedulerActions,
    inputErrorType: 'ValidationException',
  };
}

async function groupOfArn(env: EventsEnv, tx: Parameters<typeof activeGroupIn>[0], arn: string): Promise<ScheduleGroupRecord> {
  const m = /^arn:aws[\w-]*:scheduler:([^:]+):(\d{12}):schedule-group\/([0-9a-zA-Z-_.]+)$/.exec(arn);
  if (!m) throw validation(`Invalid ResourceArn ${arn}: tags are kept on schedule groups only.`);
  if (m[1] !== env.scope.region || m[2] !== env.scope.accountId) throw groupNotFound(m[3]!);
  return activeGroupIn(tx, env.scope, m[3]!);
}

async function changeTags(env: EventsEnv, arn: string, change: (tags: Readonly<Record<string, string>>) => Record<string, string>): Promise<void> {
  await transact(env.store, async (tx) => {
    const group = await groupOfArn(env, tx, arn);
    const tags = change(group.tags);
    if (Object.keys(tags).length > MAX_TAGS) throw validation(`A schedule group can have at most ${MAX_TAGS} tags.`);
    tx.putJson(schedulerKeys.group(group.name), { ...group, tags, modifiedAt: env.now() });
  });
}
