import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadServiceModel } from '../protocol/service-model.js';
import type { EcsEnv } from './env.js';
import { ecsService } from './index.js';
import { notAvailableOperations } from './not-available.js';

/**
 * docs/ecs-conformance.md is kept true: every action of the ECS model has exactly one row, and each row's
 * status agrees with the dispatch table (`index.ts`) and with the actions that only refuse (`not-available.ts`).
 */
const statuses = ['full', 'partly', 'not'] as const;
type Status = (typeof statuses)[number];
interface Row {
  readonly action: string;
  readonly status: Status;
  readonly notes: string;
}

const ROW = /^\| `([A-Za-z]+)` \| (full|partly|not) \|(.*)\|$/;

function tableRows(markdown: string): Row[] {
  const rows: Row[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const m = ROW.exec(line);
    if (!m) throw new Error(`docs/ecs-conformance.md: a row that does not read as | \`Action\` | status | notes |: ${line}`);
    rows.push({ action: m[1]!, status: m[2] as Status, notes: m[3]!.trim() });
  }
  return rows;
}

// Building the operations only makes closures over env: none is called here.
const env = {} as EcsEnv;
const modelActions = Object.keys(loadServiceModel('ecs-2014-11-13.json').operations).sort();
const dispatched = new Set(Object.keys(ecsService(env).operations));
const refusalOnly = new Set(Object.keys(notAvailableOperations(env)));
const rows = tableRows(readFileSync(new URL('../../../docs/ecs-conformance.md', import.meta.url), 'utf8'));

describe('docs/ecs-conformance.md', () => {
  it('has one row per action of the model, in alphabetical order, and no other', () => {
    expect(rows.map((r) => r.action)).toEqual(modelActions);
  });

  it('says what is missing, and why, for every action it does not call full', () => {
    const unexplained = rows.filter((r) => r.status !== 'full' && r.notes === '').map((r) => r.action);
    expect(unexplained).toEqual([]);
  });

  it.each(rows.map((r) => [r.action, r.status, r] as const))('%s: %s agrees with the dispatch table', (action, status) => {
    switch (status) {
      case 'full':
      case 'partly':
        expect(dispatched.has(action), `${action} is not in the dispatch table (src/api/ecs/index.ts)`).toBe(true);
        expect(refusalOnly.has(action), `${action} only refuses (not-available.ts): its status is "not"`).toBe(false);
        break;
      case 'not':
        expect(refusalOnly.has(action), `${action} is "not" but is not one of the refusals of not-available.ts`).toBe(true);
        expect(dispatched.has(action)).toBe(true);
        break;
    }
  });

  it('dispatches no action the model does not have', () => {
    expect([...dispatched].filter((a) => !modelActions.includes(a))).toEqual([]);
  });
});
