import { createHash } from 'node:crypto';

/**
 * Which control-plane replica the agent talks to (ECS_BACKEND_HOST may list several). Every call the agent
 * makes — the ECS, ECR and Logs APIs and the session — asks `current()`, and reports a replica that did
 * not answer with `failed()`, so all of them move together to the next one.
 *
 * - The starting replica comes from a hash of a seed that names this agent (stable across restarts), so a
 *   fleet of agents spreads over the replicas instead of all piling onto the first.
 * - A failure of the current replica moves to the next one in the list that has not failed recently; when
 *   every one has, simply to the next one (a dead list is still walked round, never stuck on one entry).
 * - A failure reported for a replica that is no longer the current one changes nothing: requests that
 *   were in flight to a dead replica must not push the agent off the healthy one it already moved to.
 * - The agent does not move back when a replica returns; it stays where it is until that one fails.
 */
export class ControlPlaneEndpoints {
  private index: number;
  /** Endpoint → when its last failure stops counting against it. */
  private readonly downUntil = new Map<string, number>();
  private readonly now: () => number;
  private readonly downForMs: number;
  private readonly onMove: EndpointOptions['onMove'];

  constructor(
    readonly all: readonly string[],
    options: EndpointOptions,
  ) {
    if (all.length === 0) throw new Error('no control plane endpoints');
    this.index = startIndex(options.seed, all.length);
    this.now = options.now ?? Date.now;
    this.downForMs = options.downForMs ?? 30_000;
    this.onMove = options.onMove;
  }

  /** The replica to use now. */
  current(): string {
    return this.all[this.index]!;
  }

  /**
   * A call to `endpoint` found it unavailable (see `isUnavailable`). Returns the endpoint to use next
   * (the current one when nothing changed).
   */
  failed(endpoint: string): string {
    const now = this.now();
    this.downUntil.set(endpoint, now + this.downForMs);
    if (endpoint !== this.current() || this.all.length === 1) return this.current();
    const n = this.all.length;
    let next = (this.index + 1) % n;
    for (let step = 1; step < n; step++) {
      const candidate = (this.index + step) % n;
      if ((this.downUntil.get(this.all[candidate]!) ?? 0) <= now) {
        next = candidate;
        break;
      }
    }
    this.index = next;
    this.onMove?.(endpoint, this.current());
    return this.current();
  }

  /** A call to `endpoint` was answered: it counts as healthy again. */
  succeeded(endpoint: string): void {
    this.downUntil.delete(endpoint);
  }

}

export interface EndpointOptions {
  /** Names this agent (host and data directory): which replica it starts on. */
  readonly seed: string;
  readonly now?: () => number;
  /** How long a failed replica is passed over when choosing the next one (default 30 s). */
  readonly downForMs?: number;
  /** Told when the agent moves from one replica to another (for the log). */
  readonly onMove?: ((from: string, to: string) => void) | undefined;
}

/** Where an agent named `seed` starts in a list of `n`: spread evenly, the same every time. */
export function startIndex(seed: string, n: number): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) % n;
}

/** Network failures that say nothing answered at that address (or it stopped answering). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/**
 * Whether an error from a call to the control plane says that replica is unavailable — it could not be
 * reached, timed out, or answered with a 5xx (a replica that lost its store answers 503) — as opposed to an
 * answer about the request itself (4xx), which another replica would give just the same.
 */
export function isUnavailable(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  if (e.name === 'TimeoutError' || (e.code !== undefined && UNREACHABLE.has(e.code))) return true;
  return e.cause !== undefined && e.cause !== error && isUnavailable(e.cause);
}
