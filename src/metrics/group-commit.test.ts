import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A sync that finishes only when the test says so. */
function manualSync() {
  const calls: ((error: Error | null) => void)[] = [];
  return { calls, sync: (done: (error: Error | null) => void) => void calls.push(done) };
}
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const settled = (p: Promise<void>) => {
  const state = { done: false, failed: undefined as unknown };
  p.then(() => (state.done = true), (error: unknown) => (state.failed = error));
  return state;
};

describe('GroupCommit', () => {
  it('answers a caller only after a sync that started after its commit, and commits what arrived meanwhile together', async () => {
    const commits: number[] = [];
    const { calls, sync } = manualSync();
    const group = new GroupCommit({ commit: (waiting) => void commits.push(waiting), sync });
    const a = settled(group.add());
    const b = settled(group.add());
    await turn();
    expect(commits).toEqual([2]);
    expect(calls).toHaveLength(1);
    // While that sync runs, more arrives: it waits, uncommitted, however many turns pass.
    const c = settled(group.add());
    await turn();
    const d = settled(group.add());
    await turn();
    expect(commits).toEqual([2]);
    expect([a.done, b.done, c.done, d.done]).toEqual([false, false, false, false]);
    calls[0]!(null);
    await turn();
    await turn();
    expect([a.done, b.done, c.done, d.done]).toEqual([true, true, false, false]);
    // Then the waiting ones in one commit, answered after their own sync.
    expect(commits).toEqual([2, 2]);
    expect(calls).toHaveLength(2);
    calls[1]!(null);
    await turn();
    expect([c.done, d.done]).toEqual([true, true]);
  });

  it('refuses every caller of a failed commit or sync, and goes on with the next', async () => {
    const { calls, sync } = manualSync();
    let fail = true;
    const group = new GroupCommit({
      commit: () => {
        if (fail) throw new Error('disk full');
      },
      sync,
    });
    await expect(group.add()).rejects.toThrow('disk full');
    fail = false;
    const p = group.add();
    await turn();
    calls[0]!(new Error('EIO'));
    await expect(p).rejects.toThrow('EIO');
    const q = group.add();
    await turn();
    calls[1]!(null);
    await expect(q).resolves.toBeUndefined();
  });

  it('without a sync, answers right after the commit', async () => {
    const commits: number[] = [];
    const group = new GroupCommit({ commit: (waiting) => void commits.push(waiting) });
    await Promise.all([group.add(), group.add()]);
    await group.add();
    expect(commits).toEqual([2, 1]);
  });

  it('abandoning refuses the callers not committed yet, not those whose commit is syncing', async () => {
    const commits: number[] = [];
    const { calls, sync } = manualSync();
    const group = new GroupCommit({ commit: (waiting) => void commits.push(waiting), sync });
    const syncing = settled(group.add());
    await turn();
    const lost = settled(group.add());
    group.abandon(new Error('fold failed'));
    calls[0]!(null);
    await turn();
    await turn();
    expect(syncing.done).toBe(true);
    expect(String(lost.failed)).toContain('fold failed');
    // Nothing was left to commit.
    expect(commits).toEqual([1]);
    const next = group.add();
    await turn();
    calls[1]!(null);
    await expect(next).resolves.toBeUndefined();
    expect(commits).toEqual([1, 1]);
  });

  it('answers a commit before its upkeep, and starts the next commit only once the upkeep is done', async () => {
    const commits: number[] = [];
    const { calls, sync } = manualSync();
    const upkeep: (() => void)[] = [];
    const group = new GroupCommit({ commit: (waiting) => void commits.push(waiting), sync, between: (ready) => void upkeep.push(ready) });
    const a = settled(group.add());
    await turn();
    calls[0]!(null);
    await turn();
    expect(a.done).toBe(true);
    expect(upkeep).toHaveLength(1);
    const b = settled(group.add());
    await turn();
    await turn();
    expect(commits).toEqual([1]); // waits for the upkeep
    upkeep[0]!();
    await turn();
    expect(commits).toEqual([1, 1]);
    calls[1]!(null);
    await turn();
    expect(b.done).toBe(true);
  });
});
