/**
 * Connection draining of a deregistered target, decided without I/O (the driver acts on the answer).
 *
 *   registered ──deregister──▶ draining ──no request in flight──────────────▶ delete (`del server`)
 *                                 │     └─deregistration delay passed──────▶ shut its sessions, delete
 *                                 └─its worker replaced (reload, crash)──▶ wait out the delay, forget
 *
 * ELBv2 completes a deregistration as soon as the target has no in-flight request, and at the latest
 * when the deregistration delay has passed.
 */

/** What the driver knows of a draining target. */
export interface DrainClock {
  /** When it was deregistered (ms). */
  readonly since: number;
  readonly delayMs: number;
  /** Still a server of the running worker (false once a reload or a restart replaced that worker). */
  readonly live: boolean;
}

/** The target's load as the running worker reports it; undefined when it has no such server. */
export interface DrainLoad {
  readonly currentSessions: number;
  readonly queued: number;
}

export type DrainStep = 'wait' | 'delete' | 'shutdown-and-delete' | 'forget';

export function drainStep(d: DrainClock, load: DrainLoad | undefined, now: number): DrainStep {
  const expired = now - d.since >= d.delayMs;
  // Held by an old worker (or none): that worker finishes its requests; the delay is what remains.
  if (!d.live || !load) return expired ? 'forget' : 'wait';
  const idle = load.currentSessions === 0 && load.queued === 0;
  if (idle) return 'delete';
  return expired ? 'shutdown-and-delete' : 'wait';
}
