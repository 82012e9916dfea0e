/**
 * Keeps each container's previous stats reading, so a response can carry Docker's `precpu_stats` and
 * `preread` (what CPU percentages are computed from) without a background poller: the previous reading
 * is the one taken for the previous request about that container.
 */
import type { ContainerStats } from '../../runtime/runtime.js';

export type ReadStats = (runtimeId: string) => Promise<ContainerStats | undefined>;

export interface StatsSample {
  readonly current: ContainerStats;
  readonly previous?: ContainerStats;
}

export class StatsSampler {
  private readonly last = new Map<string, ContainerStats>();

  constructor(private readonly read: ReadStats) {}

  /** A new reading and the one before it; undefined when the runtime has no figures for the container. */
  async sample(runtimeId: string): Promise<StatsSample | undefined> {
    const current = await this.read(runtimeId);
    if (!current) return undefined;
    const previous = this.last.get(runtimeId);
    // Of two concurrent reads, the later one is kept; one not older than `current` is no previous reading.
    if (!previous || previous.readAt < current.readAt) this.last.set(runtimeId, current);
    return previous && previous.readAt < current.readAt ? { current, previous } : { current };
  }

  /** Forget containers that are gone, so the map does not grow with every task the host ever ran. */
  retain(runtimeIds: ReadonlySet<string>): void {
    for (const id of this.last.keys()) if (!runtimeIds.has(id)) this.last.delete(id);
  }
}
