/**
 * Characters of container log events read but not yet acknowledged by the control plane, summed over every
 * container the agent follows. Each container also has a bound of its own; this one keeps the sum bounded
 * when many containers log while the control plane is slow or away (50 containers at their own bound
 * would hold hundreds of megabytes of strings).
 *
 * A container with nothing queued may always read, so one chatty container cannot starve the others:
 * the sum stays below the limit plus one read per container.
 */
export class QueueBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Characters queued now, over every container. */
  get queued(): number {
    return this.used;
  }

  /** Whether a container that holds `own` queued characters may read more of its log. */
  mayRead(own: number): boolean {
    return own === 0 || this.used < this.limit;
  }

  /** `n` characters were queued (n > 0) or sent or dropped (n < 0). */
  add(n: number): void {
    this.used += n;
  }
}
