import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { Tag } from '../../model/tags.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../keys.js';
import type { Tx } from '../../store/transact.js';
import { recordParser } from './codec.js';

/** A registered revision as stored: immutable except for status changes and tags. */
export interface TaskDefinitionRecord {
  readonly taskDefinition: Wire<TaskDefinition>;
  readonly tags: Tag[];
}

/**
 * Per-family bookkeeping: the last revision handed out (never reused, even after deletes) and how many
 * revisions are ACTIVE and exist at all, so family listings need not read every revision.
 */
export interface TaskDefinitionFamilyRecord {
  readonly family: string;
  readonly lastRevision: number;
  readonly active: number;
  readonly total: number;
}

export const emptyFamily = (family: string): TaskDefinitionFamilyRecord => ({ family, lastRevision: 0, active: 0, total: 0 });

/** Change a family's revision counts inside a transaction. */
export async function adjustFamily(tx: Tx, family: string, delta: { active?: number; total?: number }): Promise<void> {
  const fam = (await tx.getRecord(parseTaskDefinitionFamilyRecord, keys.taskDefinitionFamily(family))) ?? emptyFamily(family);
  tx.putJson(keys.taskDefinitionFamily(family), {
    ...fam,
    active: fam.active + (delta.active ?? 0),
    total: fam.total + (delta.total ?? 0),
  } satisfies TaskDefinitionFamilyRecord);
}

export const parseTaskDefinitionRecord = recordParser<TaskDefinitionRecord>('task definition', {
  taskDefinition: 'object',
  'taskDefinition.taskDefinitionArn': 'string',
  tags: 'array',
});

export const parseTaskDefinitionFamilyRecord = recordParser<TaskDefinitionFamilyRecord>('task definition family', {
  family: 'string',
  lastRevision: 'number',
  active: 'number',
  total: 'number',
});
