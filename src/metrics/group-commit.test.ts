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
    const commits: number[][] = [];
    const { calls, sync } = manualSync();
    const group = new GroupCommit<number>({ commit: (items) => void commits.push([...items]), sync });
    const a = settled(group.add(1));
    const b = settled(group.add(2));
    await turn();
    expect(commits).toEqual([[1, 2]]);
    expect(calls).toHaveLength(1);
    // While that sync runs, more arrives: it waits, uncommitted, however many turns pass.
    const c = settled(group.add(3));
    await turn();
    const d = settled(group.add(4));
    await turn();
    expect(commits).toEqual([[1, 2]]);
    expect([a.done, b.done, c.done, d.done]).toEqual([false, false, false, false]);
    calls[0]!(null);
    await turn();
    await turn();
    expect([a.done, b.done, c.done, d.done]).toEqual([true, true, false, false]);
    // Then the waiting ones in one commit, answered after their own sync.
    expect(commits).toEqual([[1, 2], [3, 4]]);
    expect(calls).toHaveLength(2);
    calls[1]!(null);
    await turn();
    expect([c.done, d.done]).toEqual([true, true]);
  });

  it('refuses every caller of a failed commit or sync, and goes on with the next', async () => {
    const { calls, sync } = manualSync();
    let fail = true;
    const group = new GroupCommit<number>({
      commit: () => {
        if (fail) throw new Error('disk full');
      },
      sync,
    });
    await expect(group.add(1)).rejects.toThrow('disk full');
    fail = false;
    const p = group.add(2);
    await turn();
    calls[0]!(new Error('EIO'));
    await expect(p).rejects.toThrow('EIO');
    const q = group.add(3);
    await turn();
    calls[1]!(null);
    await expect(q).resolves.toBeUndefined();
  });

  it('without a sync, answers right after the commit', async () => {
    const commits: number[][] = [];
    const group = new GroupCommit<number>({ commit: (items) => void commits.push([...items]) });
    await Promise.all([group.add(1), group.add(2)]);
    await group.add(3);
    expect(commits).toEqual([[1, 2], [3]]);
  });
});
