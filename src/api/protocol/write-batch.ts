/**
 * Answers written together, once per turn of the event loop, instead of each as soon as it is ready.
 *
 * Node handles every connection that became readable in one poll of the event loop, and an answer that
 * needs no I/O (a cached read) is ready within the same turn. Written at once, each answer is a send that
 * wakes the waiting client on its own, and with keep-alive clients waiting on many connections the server
 * pays a wake-up per request; written at the end of the turn, the sends go out back to back and the client
 * takes them in one wake-up. On this project's 2-core VM that halved the server's CPU per signed
 * DescribeTaskDefinition (bench/api-throughput). The delay is one turn: the poll phase that read the
 * requests ends, and the batch goes out before the loop waits again.
 */
export class WriteBatch {
  private pending: (() => void)[] = [];
  private scheduled = false;

  /** Run `write` at the end of this turn of the event loop, with every other write queued in it. */
  later(write: () => void): void {
    this.pending.push(write);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    const writes = this.pending;
    this.pending = [];
    this.scheduled = false;
    // One failed write (a socket gone) must not keep the others from going out.
    for (const write of writes) {
      try {
        write();
      } catch {
        // The client is gone; there is nobody to answer.
      }
    }
  }
}
