import { describe, expect, it, vi } from 'vitest';
import type { TaskStorage } from '../ephemeral-storage.js';
import { ARN, container, id, setup, task, until } from '../testing/task-fixtures.js';
import type { EngineDeps } from './deps.js';
import { TaskEngine } from './engine.js';
import { taskIdOf } from './task-state.js';

/** Task storage that records what it was asked: a mount per task id. */
class FakeTaskStorage implements TaskStorage {
  readonly held = new Map<string, number>();
  readonly released: string[] = [];
  async prepare(taskId: string, sizeGiB: number) {
    this.held.set(taskId, sizeGiB);
    return `/storage/${taskId}`;
  }
  async release(taskId: string) {
    this.held.delete(taskId);
    this.released.push(taskId);
  }
  async list() {
    return [...this.held.keys()];
  }
}

function withStorage() {
  const w = setup({ taskCleanupWaitMs: 60_000 });
  const storage = new FakeTaskStorage();
  (w.deps as { taskStorage?: TaskStorage }).taskStorage = storage;
  const rootfs: { id: string; writableDir?: string }[] = [];
  const create = w.images.createRootfs.bind(w.images);
  (w.deps.images as { createRootfs: EngineDeps['images']['createRootfs'] }).createRootfs = async (image, cid, options) => {
    rootfs.push({ id: cid, ...(options?.writableDir ? { writableDir: options.writableDir } : {}) });
    return create(image, cid);
  };
  return { w, storage, rootfs, engine: new TaskEngine(w.deps) };
}

const TASK_ID = taskIdOf(ARN);

describe("a task's ephemeral storage on the agent", () => {
  it("puts a Fargate task's writable layers on its own storage of its size, and releases it when the task stops (before the cleanup wait)", async () => {
    const { w, storage, rootfs, engine } = withStorage();
    engine.handlePayload([task([container('web'), container('side')], { launchType: 'FARGATE', ephemeralStorageGiB: 21 })]);
    await until(engine, (s) => s.known === 'RUNNING');
    expect(storage.held.get(TASK_ID)).toBe(21);
    expect(rootfs).toEqual(
      expect.arrayContaining([
        { id: id('web'), writableDir: `/storage/${TASK_ID}/containers/${id('web')}` },
        { id: id('side'), writableDir: `/storage/${TASK_ID}/containers/${id('side')}` },
      ]),
    );
    w.runtime.exit(id('web'), 0);
    await until(engine, (s) => s.known === 'STOPPED');
    await vi.waitFor(() => expect(storage.released).toContain(TASK_ID));
    expect(storage.held.size).toBe(0);
    // Its root filesystems were unmounted first (they write to it); the task itself waits for its cleanup.
    expect(w.images.mounted.size).toBe(0);
    expect(engine.get(ARN)).toBeDefined();
  });

  it('gives a task without ephemeral storage (EC2) none', async () => {
    const { storage, rootfs, engine } = withStorage();
    engine.handlePayload([task([container('web')])]);
    await until(engine, (s) => s.known === 'RUNNING');
    expect(storage.held.size).toBe(0);
    expect(rootfs).toEqual([{ id: id('web') }]);
  });

  it('after a restart, releases the storage no unstopped saved task holds and keeps a running one', async () => {
    const { w, storage, engine } = withStorage();
    engine.handlePayload([task([container('web')], { launchType: 'FARGATE', ephemeralStorageGiB: 30 })]);
    await until(engine, (s) => s.known === 'RUNNING');
    engine.shutdown();
    // Left by a crash: a task the agent never saved, and one saved as stopped whose release did not happen.
    storage.held.set('orphan', 21);
    storage.held.set('stopped-task', 21);
    const stoppedTask = { ...structuredClone(w.saved.get(ARN)!), arn: ARN.replace(TASK_ID, 'stopped-task'), known: 'STOPPED' as const };
    const restarted = new TaskEngine(w.deps);
    await restarted.recover([structuredClone(w.saved.get(ARN)!), stoppedTask]);
    expect([...storage.held.keys()]).toEqual([TASK_ID]);
    expect(storage.released.sort()).toEqual(['orphan', 'stopped-task']);
  });
});
