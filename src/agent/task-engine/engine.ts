import type { AcsTask } from '../../model/acs.js';
import type { EngineDeps } from './deps.js';
import { TaskManager } from './task-manager.js';
import { newTaskState, taskIdOf, type TaskState } from './task-state.js';

/**
 * The agent's task engine: one TaskManager per task, created when the control plane first sends the task
 * (or found saved after a restart) and dropped after its cleanup. The engine only routes: each manager
 * alone changes its task.
 */
export class TaskEngine {
  private readonly managers = new Map<string, TaskManager>();

  constructor(private readonly deps: EngineDeps) {}

  /**
   * Tasks sent by the control plane (a PayloadMessage). Resolves once every task of the payload is saved
   * with what the payload said: only then may the payload be acknowledged.
   */
  async handlePayload(tasks: readonly AcsTask[]): Promise<void> {
    await Promise.all(
      tasks.map(async (spec) => {
        const existing = this.managers.get(spec.arn);
        // Desired status only moves to STOPPED: a payload that says nothing new is acknowledged at once,
        // without waiting for the manager's step in progress (a pull may take minutes).
        if (existing) return existing.alreadySaved(spec.desiredStatus) ? undefined : existing.send({ kind: 'desired', spec });
        const state = newTaskState(spec);
        if (spec.desiredStatus === 'STOPPED') state.stopReason = spec.stoppedReason ?? 'Task stopped by the control plane';
        // Saved before its manager acts, so a restarted agent knows of every task it may have begun.
        await this.deps.persist(state);
        if (this.managers.has(spec.arn)) return this.managers.get(spec.arn)!.send({ kind: 'desired', spec });
        this.add(state).wake();
      }),
    );
  }

  /**
   * Adopt the tasks saved before a restart. Attachments no saved task holds are given back first; then
   * each task's manager finds out what became of its containers (exits are reported, running ones
   * followed, none restarted) and carries on, every task independently. Resolves once every manager has
   * taken its task back (its host ports reserved again), so new tasks never take a recovered one's ports.
   */
  async recover(saved: readonly TaskState[]): Promise<void> {
    await this.detachOrphans(saved);
    await this.releaseOrphanStorage(saved);
    const managers = saved.map((state) => this.add(state));
    const results = await Promise.allSettled(managers.map((m) => m.send({ kind: 'recovered' })));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.deps.log.error({ err: r.reason, task: managers[i]!.state.arn }, 'recovering a task failed');
    });
  }

  /**
   * Network attachments no saved task holds (a crash between attach and saving the task, or state lost)
   * would keep their namespace and address forever: give them back.
   */
  private async detachOrphans(saved: readonly TaskState[]): Promise<void> {
    const held = new Set(saved.flatMap((t) => [...t.containers.map((c) => c.networkId), t.taskNetwork?.id]).filter((id) => id !== undefined));
    const orphans = (await this.deps.network.list()).filter((id) => !held.has(id));
    await Promise.all(
      orphans.map(async (id) => {
        this.deps.log.info({ attachment: id }, 'detaching a network attachment no task holds');
        await this.deps.network.detach(id).catch((err: unknown) => this.deps.log.warn({ err, attachment: id }, 'detaching an orphaned attachment failed'));
      }),
    );
  }

  /**
   * Ephemeral storage no unstopped saved task holds (a crash between a task's stop and its release, or state
   * lost) would keep its loop device and file forever: released. A stopped task's was released at its stop.
   */
  private async releaseOrphanStorage(saved: readonly TaskState[]): Promise<void> {
    const storage = this.deps.taskStorage;
    if (!storage) return;
    const held = new Set(saved.filter((t) => t.known !== 'STOPPED').map((t) => taskIdOf(t.arn)));
    for (const id of (await storage.list()).filter((i) => !held.has(i))) {
      this.deps.log.info({ task: id }, 'releasing ephemeral storage no running task holds');
      await storage.release(id).catch((err: unknown) => this.deps.log.warn({ err, task: id }, 'releasing orphaned ephemeral storage failed'));
    }
  }

  /** Say every awsvpc task's address again (after the session reconnects). */
  reportAttachments(): void {
    for (const m of this.managers.values()) m.reportAttachment();
  }

  tasks(): TaskState[] {
    return [...this.managers.values()].map((m) => m.state);
  }

  get(arn: string): TaskState | undefined {
    return this.managers.get(arn)?.state;
  }

  /** Resolves when no manager has anything left to do for now (tests drive fake time between these). */
  async settled(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const managers = [...this.managers.values()];
      await Promise.all(managers.map((m) => m.settled()));
      // Let promise callbacks (exits, health results) queue their events before looking again.
      await new Promise((r) => setImmediate(r));
      if ([...this.managers.values()].every((m) => m.idle)) return;
    }
  }

  /** Stop acting; containers keep running (they are re-adopted on the next start). */
  shutdown(): void {
    for (const m of this.managers.values()) m.dispose();
  }

  private add(state: TaskState): TaskManager {
    const manager = new TaskManager(state, this.deps, (arn) => this.managers.delete(arn));
    this.managers.set(state.arn, manager);
    return manager;
  }
}
