/**
 * Service Connect's connection draining for a task of this host that the control plane stops: its containers are
 * signalled once the proxies have stopped sending it requests and the requests it holds are done — ECS's proxy
 * drains in-flight requests before the task's application is stopped — within a bound.
 *
 *   stop seen ──▶ this host's proxy: a pass that began after it (asked for at once) ──▶ the task is out of its
 *     backends (DescribeTasks shows desiredStatus STOPPED)
 *   ──▶ the proxy's next pass on its usual interval: every host's proxy refreshes from the same API on the same
 *     interval, so each has begun (about: finished) a pass after the stop too
 *   ──▶ no session open on this host's proxy to the task (its alias servers, its ingress listener: with
 *     ingressPortOverride every host's traffic to it passes there), looked at every `pollMs` (a failed look: again)
 *   ──▶ drained                                        (any step past `boundMs` from the start: drained anyway)
 *
 * What it cannot see: requests another host's proxy sent straight to the task (no ingress listener) — those
 * proxies stopped sending new ones by the second pass and finish theirs within the per-request timeout.
 */
import type { Timers } from '../task-engine/timers.js';
import type { PassGate } from './pass-gate.js';

export interface DrainParts {
  readonly gate: PassGate;
  /** Sessions open now on this host's proxy to the task. */
  readonly sessions: () => Promise<number>;
  readonly timers: Timers;
  readonly now: () => number;
  readonly pollMs?: number;
}

/** How the drain ended: the condition was met, or the bound came first. */
export type DrainEnd = 'drained' | 'bound';

export async function drainTask(parts: DrainParts, boundMs: number): Promise<DrainEnd> {
  const deadline = parts.now() + boundMs;
  const left = () => Math.max(0, deadline - parts.now());
  try {
    await parts.gate.wait(left());
    await parts.gate.wait(left(), false);
  } catch {
    return 'bound';
  }
  for (;;) {
    // A read that fails (HAProxy reloading) proves nothing: looked at again, up to the bound.
    const open = await parts.sessions().catch(() => undefined);
    if (open === 0) return 'drained';
    if (left() === 0) return 'bound';
    await new Promise<void>((resolve) => parts.timers.setTimeout(resolve, Math.min(parts.pollMs ?? 100, left())));
  }
}
