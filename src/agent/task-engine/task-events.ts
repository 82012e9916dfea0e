import type { AcsTask } from '../../model/acs.js';
import type { ExitStatus } from '../../runtime/runtime.js';
import type { HealthStatus } from './health.js';
import { containerOf } from './transitions.js';
import type { TaskState } from './task-state.js';

/**
 * What a task manager hears, on its one queue. Nothing else changes a task: the control plane, the
 * runtime, health checks and timers each only send one of these.
 */
export type TaskEvent =
  /** The control plane sent the task (again): its desired status. */
  | { readonly kind: 'desired'; readonly spec: AcsTask }
  /** A container's process ended (seen live, or found on recovery); `lost`: the runtime no longer knows it. */
  | { readonly kind: 'exited'; readonly container: string; readonly exit: ExitStatus; readonly lost?: boolean }
  | { readonly kind: 'health'; readonly container: string; readonly status: HealthStatus }
  /** The Service Connect drain of a stopped task is over: its containers may be signalled. */
  | { readonly kind: 'drained' }
  /** A deadline the manager armed passed (SIGKILL due, startTimeout, cleanup). */
  | { readonly kind: 'timer'; readonly name: string }
  /** The agent restarted: find out what became of the containers while it was away. */
  | { readonly kind: 'recovered' };

/** The events applied by a pure change of state ('recovered' asks the runtime: the manager does it). */
export type StateEvent = Exclude<TaskEvent, { kind: 'recovered' }>;

/** Apply `event` to `state`; returns whether anything changed (then the manager saves and reports). */
export function applyEvent(state: TaskState, event: StateEvent): boolean {
  switch (event.kind) {
    case 'desired':
      // Desired status only moves from RUNNING to STOPPED.
      if (event.spec.desiredStatus !== 'STOPPED' || state.desired === 'STOPPED') return false;
      state.desired = 'STOPPED';
      state.stopReason ??= event.spec.stoppedReason ?? 'Task stopped by the control plane';
      if (event.spec.stopDeadline !== undefined) state.stopDeadline ??= event.spec.stopDeadline;
      return true;
    case 'exited': {
      const c = containerOf(state, event.container);
      if (c.known === 'STOPPED') return false;
      if (event.lost) c.reason ??= 'The container was lost while the agent was not running';
      c.known = 'STOPPED';
      c.exitCode = event.exit.exitCode;
      c.finishedAt = event.exit.exitedAt;
      if (event.exit.oomKilled) c.reason = 'OutOfMemoryError: Container killed due to memory usage';
      if (c.essential && state.desired === 'RUNNING') {
        state.desired = 'STOPPED';
        state.stopReason ??= 'Essential container in task exited';
      }
      return true;
    }
    case 'health': {
      const c = containerOf(state, event.container);
      if (c.known !== 'RUNNING' || c.healthStatus === event.status) return false;
      c.healthStatus = event.status;
      return true;
    }
    case 'drained':
      if (state.drainUntil === undefined || state.drained) return false;
      state.drained = true;
      return true;
    case 'timer':
      return false;
  }
}
