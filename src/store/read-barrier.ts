/**
 * A linearizable read barrier shared by concurrent readers: `revision()` resolves with a store revision read
 * after the call began, so a reader that then waits for its cache to reach that revision sees every write
 * acknowledged before it started — through any replica — without asking the store for the record itself.
 *
 * Concurrent callers share one revision read: a caller that arrives while a read is in flight waits for the
 * next one (sent when the current one returns), because the read in flight may have been answered before the
 * caller began. So under load one store round trip serves every request that arrived during the previous
 * one — etcd's ReadIndex batching, one level up.
 */
export class ReadBarrier {
  private inflight?: Promise<number>;
  private next?: Promise<number>;

  constructor(private readonly read: () => Promise<number>) {}

  revision(): Promise<number> {
    if (!this.inflight) return this.start();
    // A read is on its way but may reflect a moment before this call: take the one sent after it returns.
    this.next ??= this.inflight.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  private start(): Promise<number> {
    const read = this.read();
    this.inflight = read;
    const clear = () => {
      if (this.inflight === read) this.inflight = undefined;
    };
    read.then(clear, clear);
    return read;
  }

  private startNext(): Promise<number> {
    this.next = undefined;
    return this.start();
  }
}
