import type {
  DeleteTaskDefinitionsRequest,
  DeregisterTaskDefinitionRequest,
  DescribeTaskDefinitionRequest,
  ListTaskDefinitionFamiliesRequest,
  ListTaskDefinitionsRequest,
  RegisterTaskDefinitionRequest,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { parseOwnEcsArn } from '../../model/arn.js';
import { ecsMessage } from '../../model/ecs-messages.js';
import { clientError, invalidParameter } from '../../model/errors.js';
import { validateTags } from '../../model/tags.js';
import { normalizeTaskDefinition } from '../../model/task-definition/normalize.js';
import { validateTaskDefinition } from '../../model/task-definition/validate.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import { transact } from '../../store/transact.js';
import { pageOf } from '../pagination.js';
import type { CallContext } from '../protocol/json-rpc.js';
import { epochSeconds, type EcsEnv } from './env.js';
import { compileFilter } from './placement.js';
import {
  adjustFamily,
  emptyFamily,
  type TaskDefinitionFamilyRecord,
  type TaskDefinitionRecord,
} from '../../state/records/task-definitions.js';
import { parseTaskDefinitionFamilyRecord, parseTaskDefinitionRecord } from '../../state/records/task-definitions.js';
import { ParsedCache } from '../../state/records/parsed-cache.js';
import type { Store } from '../../store/store.js';

/** A reference as ECS accepts it: `family`, `family:revision`, or a full ARN. */
interface TaskDefinitionRef {
  readonly family: string;
  readonly revision?: number;
}

export function parseTaskDefinitionRef(env: EcsEnv, ref: string): TaskDefinitionRef | undefined {
  const body = ref.startsWith('arn:') ? parseOwnEcsArn(env.scope, ref, 'task-definition') : ref;
  if (body === undefined) return undefined;
  const m = /^([a-zA-Z0-9_-]{1,255})(?::(\d{1,10}))?$/.exec(body);
  if (!m) return undefined;
  if (ref.startsWith('arn:') && m[2] === undefined) return undefined;
  return m[2] === undefined ? { family: m[1]! } : { family: m[1]!, revision: Number(m[2]) };
}

/** The task definition a reference names: a given revision, or the family's latest ACTIVE revision. */
export async function findTaskDefinition(env: EcsEnv, ref: string): Promise<TaskDefinitionRecord | undefined> {
  const parsed = parseTaskDefinitionRef(env, ref);
  if (!parsed) return undefined;
  const records = parsedTaskDefinitions(env.store);
  if (parsed.revision !== undefined) {
    const entry = await env.store.get(keys.taskDefinition(parsed.family, parsed.revision));
    return entry && records.read(entry);
  }
  let after: string | undefined;
  // The latest revision is nearly always the answer: read it alone first, then older ones 50 at a time
  // (a family registered thousands of times made every describe read and parse 50 records).
  for (let limit = 1; ; limit = 50) {
    const page = await env.store.range(keys.taskDefinitionsOf(parsed.family), { reverse: true, limit, after });
    for (const entry of page.entries) {
      const record = records.read(entry);
      if (record.taskDefinition.status === 'ACTIVE') return record;
      after = entry.key;
    }
    if (!page.more) return undefined;
  }
}

/** Task definitions parsed once per stored version, per store (a process may hold several in tests). */
const parsedByStore = new WeakMap<Store, ParsedCache<TaskDefinitionRecord>>();
function parsedTaskDefinitions(store: Store): ParsedCache<TaskDefinitionRecord> {
  let cache = parsedByStore.get(store);
  if (!cache) parsedByStore.set(store, (cache = new ParsedCache(parseTaskDefinitionRecord)));
  return cache;
}

/** Parse a reference that must carry a revision (deregister, delete). */
function requireRevision(env: EcsEnv, ref: string): Required<TaskDefinitionRef> {
  const parsed = parseTaskDefinitionRef(env, ref);
  if (!parsed) throw clientError(`Invalid task definition '${ref}'. Use family:revision or a full task definition ARN.`);
  if (parsed.revision === undefined) throw clientError(ecsMessage('revisionMissing'));
  return parsed as Required<TaskDefinitionRef>;
}

export function taskDefinitionOperations(env: EcsEnv) {
  return {
    async RegisterTaskDefinition(input: RegisterTaskDefinitionRequest, call: CallContext) {
      const size = validateTaskDefinition(input);
      (input.placementConstraints ?? []).forEach((c, i) => compileFilter(c.expression!, `placementConstraints[${i}].expression`));
      const tags = validateTags(input.tags);
      const family = input.family!;
      const registeredAt = epochSeconds(env.now());
      const taskDefinition = await transact(env.store, async (tx) => {
        const fam = (await tx.getRecord(parseTaskDefinitionFamilyRecord, keys.taskDefinitionFamily(family))) ?? emptyFamily(family);
        const revision = fam.lastRevision + 1;
        const td = normalizeTaskDefinition(input, size, { scope: env.scope, revision, registeredAt, registeredBy: call.principal.arn });
        tx.putJson(keys.taskDefinition(family, revision), { taskDefinition: td, tags } satisfies TaskDefinitionRecord);
        tx.putJson(keys.taskDefinitionFamily(family), {
          ...fam,
          lastRevision: revision,
          active: fam.active + 1,
          total: fam.total + 1,
        } satisfies TaskDefinitionFamilyRecord);
        return td;
      });
      return { taskDefinition, tags };
    },

    async DescribeTaskDefinition(input: DescribeTaskDefinitionRequest) {
      const record = await findTaskDefinition(env, input.taskDefinition!);
      if (!record) throw clientError(ecsMessage('taskDefinitionNotDescribable'));
      return {
        taskDefinition: record.taskDefinition,
        ...(input.include?.includes('TAGS') ? { tags: record.tags } : {}),
      };
    },

    async ListTaskDefinitions(input: ListTaskDefinitionsRequest) {
      const status = input.status ?? 'ACTIVE';
      const prefix = input.familyPrefix ? keys.taskDefinitionsOf(input.familyPrefix) : keys.taskDefinitions();
      const page = await pageOf(
        env.store,
        prefix,
        input,
        { defaultSize: 100, maxSize: 100, reverse: input.sort === 'DESC' },
        (e) => {
          const td = (parseTaskDefinitionRecord(e.value, e.key)).taskDefinition;
          return td.status === status ? td.taskDefinitionArn! : undefined;
        },
      );
      return { taskDefinitionArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async ListTaskDefinitionFamilies(input: ListTaskDefinitionFamiliesRequest) {
      const status = input.status ?? 'ALL';
      const prefix = keys.taskDefinitionFamilies() + (input.familyPrefix ?? '');
      const page = await pageOf(env.store, prefix, input, { defaultSize: 100, maxSize: 100 }, (e) => {
        const fam = parseTaskDefinitionFamilyRecord(e.value, e.key);
        const listed =
          status === 'ACTIVE' ? fam.active > 0 : status === 'INACTIVE' ? fam.active === 0 && fam.total > 0 : fam.total > 0;
        return listed ? fam.family : undefined;
      });
      return { families: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async DeregisterTaskDefinition(input: DeregisterTaskDefinitionRequest) {
      const { family, revision } = requireRevision(env, input.taskDefinition!);
      const taskDefinition = await transact(env.store, async (tx) => {
        const record = await tx.getRecord(parseTaskDefinitionRecord, keys.taskDefinition(family, revision));
        if (!record) throw clientError('The specified task definition does not exist.');
        const td = record.taskDefinition;
        if (td.status === 'DELETE_IN_PROGRESS') throw clientError('The specified task definition is being deleted.');
        if (td.status === 'INACTIVE') return td;
        const inactive: Wire<TaskDefinition> = { ...td, status: 'INACTIVE', deregisteredAt: epochSeconds(env.now()) };
        tx.putJson(keys.taskDefinition(family, revision), { ...record, taskDefinition: inactive });
        await adjustFamily(tx, family, { active: -1 });
        return inactive;
      });
      return { taskDefinition };
    },

    async DeleteTaskDefinitions(input: DeleteTaskDefinitionsRequest) {
      const refs = input.taskDefinitions ?? [];
      if (refs.length === 0 || refs.length > 10) throw invalidParameter('taskDefinitions must list between 1 and 10 task definitions.');
      const taskDefinitions: Wire<TaskDefinition>[] = [];
      // Each item stands alone, as ECS answers: a bad one is a failure naming the item as given, never the call's error.
      const failures: { arn: string; reason: string }[] = [];
      for (const ref of refs) {
        const parsed = parseTaskDefinitionRef(env, ref);
        if (parsed?.revision === undefined) {
          failures.push({ arn: ref, reason: ecsMessage('taskDefinitionInvalidId') });
          continue;
        }
        const { family, revision } = parsed;
        type Outcome = { deleted: Wire<TaskDefinition> } | { failure: string };
        const outcome = await transact<Outcome>(env.store, async (tx) => {
          const record = await tx.getRecord(parseTaskDefinitionRecord, keys.taskDefinition(family, revision));
          if (!record) return { failure: ecsMessage('taskDefinitionDoesNotExist') };
          const td = record.taskDefinition;
          if (td.status === 'ACTIVE') return { failure: ecsMessage('taskDefinitionStillActive') };
          if (td.status === 'DELETE_IN_PROGRESS') return { deleted: td };
          const deleting: Wire<TaskDefinition> = { ...td, status: 'DELETE_IN_PROGRESS', deleteRequestedAt: epochSeconds(env.now()) };
          tx.putJson(keys.taskDefinition(family, revision), { ...record, taskDefinition: deleting });
          tx.putJson(keys.taskDefinitionDeletion(family, revision), { family, revision });
          return { deleted: deleting };
        });
        if ('deleted' in outcome) taskDefinitions.push(outcome.deleted);
        else failures.push({ arn: ref, reason: outcome.failure });
      }
      return { taskDefinitions, failures };
    },
  };
}
