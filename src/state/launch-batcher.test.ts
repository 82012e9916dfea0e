import { describe, expect, it } from 'vitest';
import { emptyNeeds } from '../model/container-instance.js';
import { MemoryStore } from '../store/memory.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { keys } from './keys.js';
import { LaunchBatcher } from './launch-batcher.js';
import { parseInstanceRecord, type InstanceRecord } from './records/instances.js';
import type { LaunchSpec } from './task-launch.js';

const ctx = { scope: { region: 'us-east-1', accountId: '123456789012' }, now: () => 1_700_000_000_000 };

const instance = (id: string, memory: number): InstanceRecord => ({
  cluster: 'c',
  id,
  ec2InstanceId: `i-${id}`,
  reserved: emptyNeeds,
  instance: {
    containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/c/${id}`,
    status: 'ACTIVE',
    agentConnected: true,
    registeredResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 10_000 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
    ],
  },
});

const spec = (family: string): LaunchSpec => ({
  cluster: 'c',
  td: {
    family,
    taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:1`,
    containerDefinitions: [{ name: 'app', image: 'busybox', memory: 100 }],
  },
  propagatedTags: [],
  tags: [],
  overrides: { containerOverrides: [] },
  group: `family:${family}`,
  needs: { ...emptyNeeds, memory: 100 },
});

/** Counts commits that changed something. */
function counting(store: MemoryStore): Store & { commits: number } {
  const wrapped = Object.create(store) as Store & { commits: number };
  wrapped.commits = 0;
  wrapped.txn = async (compares, ops) => {
    const result = await store.txn(compares, ops);
    if (result.succeeded && ops.length > 0) wrapped.commits++;
    return result;
  };
  return wrapped;
}

async function setup(instances: InstanceRecord[]) {
  const memory = new MemoryStore();
  await memory.txn([], instances.map((r) => ({ type: 'put' as const, key: keys.containerInstance('c', r.id), value: JSON.stringify(r) })));
  const store = counting(memory);
  return { store, batcher: new LaunchBatcher(store, ctx) };
}

describe('LaunchBatcher', () => {
  it('commits launches that arrive while a commit is under way together, each with its own answer', async () => {
    const { store, batcher } = await setup([instance('a', 10_000), instance('b', 10_000)]);
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => batcher.launch(spec(`f${i}`), ['a', 'b'])));
    // All arrived in one turn of the event loop: one commit.
    expect(store.commits).toBe(1);
    for (const [i, r] of results.entries()) {
      expect(r.failures).toEqual([]);
      expect(r.created.map((t) => t.task.group)).toEqual([`family:f${i}`, `family:f${i}`]);
    }
    const ids = results.flatMap((r) => r.created.map((t) => t.id));
    expect(new Set(ids).size).toBe(18);
    expect(await store.count(keys.tasksOf('c'))).toBe(18);
    const a = parseInstanceRecord((await store.get(keys.containerInstance('c', 'a')))!.value, 'a');
    expect(a.reserved.memory).toBe(900);
  });

  it('never over-commits an instance across the launches of one batch', async () => {
    // Room for 5 tasks of 100 MiB; 8 launches of one task each race for it.
    const { batcher } = await setup([instance('small', 500)]);
    const results = await Promise.all(Array.from({ length: 8 }, () => batcher.launch(spec('web'), ['small'])));
    expect(results.filter((r) => r.created.length === 1)).toHaveLength(5);
    expect(results.filter((r) => r.failures[0]?.reason === 'RESOURCE:MEMORY')).toHaveLength(3);
  });

  it("one launch that fails does not fail the others batched with it", async () => {
    const { store, batcher } = await setup([instance('a', 10_000)]);
    await store.txn([], [{ type: 'put', key: keys.containerInstance('c', 'corrupt'), value: '{"not":"an instance"}' }]);
    const first = batcher.launch(spec('warm-up'), ['a']);
    const good = batcher.launch(spec('good'), ['a']);
    const bad = batcher.launch(spec('bad'), ['corrupt']);
    const alsoGood = batcher.launch(spec('also-good'), ['a']);
    await first;
    await expect(bad).rejects.toThrow(/container instance/);
    expect((await good).created).toHaveLength(1);
    expect((await alsoGood).created).toHaveLength(1);
    expect(await store.count(keys.tasksOf('c'))).toBe(3);
  });

  it('never runs a batch again whose commit may have been applied: each caller hears the store was unavailable', async () => {
    const { store, batcher } = await setup([instance('a', 10_000)]);
    await batcher.launch(spec('warm-up'), ['a']);
    const inner = store.txn;
    let failNext = false;
    // The commit reaches the store, then the answer is lost (etcd went away after the request was sent).
    store.txn = async (compares, ops) => {
      const result = await inner(compares, ops);
      if (failNext && result.succeeded && ops.length > 0) {
        failNext = false;
        throw new StoreUnavailableError('etcd did not answer txn', { maybeCommitted: true });
      }
      return result;
    };
    const hold = batcher.launch(spec('held'), ['a']);
    failNext = true;
    const launches = [batcher.launch(spec('x'), ['a']), batcher.launch(spec('y'), ['a'])];
    await hold.catch(() => undefined);
    for (const l of launches) await expect(l).rejects.toBeInstanceOf(StoreUnavailableError);
    // x and y were committed once, by the batch whose answer was lost; never a second time.
    const groups = (await store.range(keys.tasksOf('c'))).entries.map((e) => JSON.parse(e.value).task.group as string);
    expect(groups.filter((g) => g === 'family:x')).toHaveLength(1);
    expect(groups.filter((g) => g === 'family:y')).toHaveLength(1);
  });
});
