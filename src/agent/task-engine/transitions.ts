import type { AcsContainer } from '../../model/acs.js';
import { dependencyVerdict, neededByRunningDependent } from './dependencies.js';
import { deriveTaskStatus, type ContainerKnownStatus, type ContainerState, type TaskState } from './task-state.js';

/**
 * The task manager's transition table, and the pure choice of its next step. The manager (task-manager.ts)
 * performs one step, saves, then asks again; a step always changes the state it was chosen from, so
 * asking again never repeats it.
 *
 * For each container, its known status and the task's desired status give the action that moves it on:
 *
 *   desired RUNNING   NONE → pull   PULLED → create   CREATED → start   RUNNING, STOPPED → (nothing)
 *   desired STOPPED   NONE, PULLED, CREATED → discard (never ran: delete what was made)
 *                     RUNNING → stop (SIGTERM — after the drain, when a Service Connect task has one —,
 *                               SIGKILL once stopTimeout passed; dependents first; at the task's
 *                               stopDeadline, if it has one, SIGKILL to every one still running)
 *
 * create and start wait for dependsOn (startTimeout fails the task); a STOPPED container's root filesystem
 * is unmounted (its writable layer stays until cleanup). When every container is STOPPED: finish (networks
 * and ports back, report), and at cleanupAt: cleanup.
 */
export const transitions = {
  RUNNING: { NONE: 'pull', PULLED: 'create', CREATED: 'start', RUNNING: 'none', STOPPED: 'none' },
  STOPPED: { NONE: 'discard', PULLED: 'discard', CREATED: 'discard', RUNNING: 'stop', STOPPED: 'none' },
} as const satisfies Record<TaskState['desired'], Record<ContainerKnownStatus, string>>;

export type ContainerAction = (typeof transitions)[keyof typeof transitions][ContainerKnownStatus];

/** One thing the manager does next. */
export type Step =
  | { readonly kind: 'pull'; readonly containers: readonly string[] }
  | { readonly kind: 'attach-task-network' }
  | { readonly kind: 'create'; readonly container: string }
  | { readonly kind: 'start'; readonly container: string }
  /** Record since when a container waits for its dependencies (startTimeout counts from there). */
  | { readonly kind: 'wait-dependencies'; readonly container: string }
  | { readonly kind: 'fail'; readonly container: string; readonly reason: string }
  | { readonly kind: 'signal'; readonly container: string; readonly signal: 'SIGTERM' | 'SIGKILL' }
  | { readonly kind: 'discard'; readonly container: string }
  | { readonly kind: 'release-rootfs'; readonly container: string }
  | { readonly kind: 'finish' }
  /** The task's status, derived from its containers, moved: save and report it. */
  | { readonly kind: 'report' }
  | { readonly kind: 'cleanup' }
  /** Nothing to do until an event comes or one of these moments (epoch ms) passes. */
  | { readonly kind: 'idle'; readonly wake: readonly Wake[] };

export interface Wake {
  readonly name: string;
  readonly at: number;
}

export interface PlanContext {
  readonly now: number;
  readonly defaultStartTimeoutMs: number;
  readonly defaultStopTimeoutMs: number;
}

/** The next step for `state` at `ctx.now`. Pure. */
export function planStep(state: TaskState, ctx: PlanContext): Step {
  const wake: Wake[] = [];
  const step = state.desired === 'RUNNING' ? towardsRunning(state, ctx, wake) : towardsStopped(state, ctx, wake);
  if (step) return step;
  for (const c of state.containers) {
    if (c.known === 'STOPPED' && c.runtimeId && !c.rootfsReleased) return { kind: 'release-rootfs', container: c.name };
  }
  const allStopped = state.containers.every((c) => c.known === 'STOPPED');
  if (allStopped && state.known !== 'STOPPED') return { kind: 'finish' };
  if (state.known === 'STOPPED' && state.cleanupAt !== undefined) {
    if (ctx.now >= state.cleanupAt) return { kind: 'cleanup' };
    wake.push({ name: 'cleanup', at: state.cleanupAt });
  }
  if (!allStopped && deriveTaskStatus(state) !== state.known) return { kind: 'report' };
  return { kind: 'idle', wake };
}

function towardsRunning(state: TaskState, ctx: PlanContext, wake: Wake[]): Step | undefined {
  const pending = state.containers.filter((c) => transitions.RUNNING[c.known] === 'pull');
  if (pending.length) return { kind: 'pull', containers: pending.map((c) => c.name) };
  if (state.spec.networkMode === 'awsvpc' && !state.taskNetwork?.netnsPath) return { kind: 'attach-task-network' };
  for (const c of state.containers) {
    const action = transitions.RUNNING[c.known];
    if (action !== 'create' && action !== 'start') continue;
    const def = defOf(state, c.name);
    const verdict = dependencyVerdict(def, state.containers);
    if (verdict.kind === 'ready') return { kind: action, container: c.name };
    if (verdict.kind === 'failed') return { kind: 'fail', container: c.name, reason: verdict.reason };
    if (c.waitingSince === undefined) return { kind: 'wait-dependencies', container: c.name };
    const timeoutMs = def.startTimeout !== undefined ? def.startTimeout * 1000 : ctx.defaultStartTimeoutMs;
    const due = c.waitingSince + timeoutMs;
    if (ctx.now >= due) {
      return { kind: 'fail', container: c.name, reason: `DependencyTimeoutError: container '${c.name}' waited ${Math.round(timeoutMs / 1000)}s for ${verdict.on}` };
    }
    wake.push({ name: `start:${c.name}`, at: due });
  }
  return undefined;
}

function towardsStopped(state: TaskState, ctx: PlanContext, wake: Wake[]): Step | undefined {
  const defs = state.spec.containers;
  const deadline = state.stopDeadline;
  for (const c of state.containers) {
    const action = transitions.STOPPED[c.known];
    if (action === 'discard') return { kind: 'discard', container: c.name };
    if (action !== 'stop') continue;
    // The task's deadline (a Spot interruption's warning is over): nothing waits any longer, not even for dependents.
    if (deadline !== undefined && c.killSignalAt === undefined) {
      if (ctx.now >= deadline) return { kind: 'signal', container: c.name, signal: 'SIGKILL' };
      wake.push({ name: `deadline:${c.name}`, at: deadline });
    }
    // Dependents stop first: a container others depend on waits until they have stopped.
    if (neededByRunningDependent(c.name, defs, state.containers)) continue;
    if (c.stopSignalAt === undefined && state.drainUntil !== undefined && !state.drained && ctx.now < state.drainUntil) {
      wake.push({ name: 'drain', at: state.drainUntil });
      continue;
    }
    if (c.stopSignalAt === undefined) return { kind: 'signal', container: c.name, signal: 'SIGTERM' };
    if (c.killSignalAt !== undefined) continue;
    const due = Math.min(c.stopSignalAt + stopTimeoutMs(defOf(state, c.name), ctx), deadline ?? Number.POSITIVE_INFINITY);
    if (ctx.now >= due) return { kind: 'signal', container: c.name, signal: 'SIGKILL' };
    wake.push({ name: `kill:${c.name}`, at: due });
  }
  return undefined;
}

function stopTimeoutMs(def: AcsContainer, ctx: PlanContext): number {
  return def.stopTimeout !== undefined ? def.stopTimeout * 1000 : ctx.defaultStopTimeoutMs;
}

export function defOf(state: TaskState, name: string): AcsContainer {
  const def = state.spec.containers.find((c) => c.name === name);
  if (!def) throw new Error(`task ${state.arn} has no container ${name}`);
  return def;
}

export function containerOf(state: TaskState, name: string): ContainerState {
  const c = state.containers.find((x) => x.name === name);
  if (!c) throw new Error(`task ${state.arn} has no container ${name}`);
  return c;
}
