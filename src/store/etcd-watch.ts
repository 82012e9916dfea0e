import type { IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3';
import { CompactedError, type Watch, type WatchEvent, type WatchListener } from './store.js';

/** What an EtcdWatch needs from its store. */
export interface EtcdWatchSource {
  /** Open a new gRPC watch stream (on any endpoint). */
  openStream(): Promise<IDuplexStream<IWatchRequest, IWatchResponse>>;
  /** The store's events for one watch response (keys without the store's prefix). */
  toEvents(response: IWatchResponse): WatchEvent[];
  /** The error to report when etcd stayed unreachable for longer than `deadlineMs`. */
  unavailable(cause: unknown): Error;
  readonly deadlineMs: number;
}

/**
 * One Store watch on its own etcd watch stream. etcd sends all the events of one revision in one response,
 * so delivering response by response hands listeners whole transactions.
 *
 * When the stream breaks (a member died, the connection dropped), the watch opens a new stream from the
 * revision after the last one delivered, so nothing is lost or repeated; it gives up with `onError` once it
 * has been unable to do so for `deadlineMs`. The etcd3 client's own Watcher also resumes by itself, but from
 * the header revision of the last response (also of the `created` response), which can skip history not yet
 * delivered; this is why the raw stream is used.
 */
export class EtcdWatch implements Watch {
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private closed = false;
  /** The first revision not yet delivered: where a resumed stream starts. */
  private next: number;
  /** When the stream broke and has not been re-established since. */
  private brokenSince: number | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;

  constructor(
    private readonly source: EtcdWatchSource,
    private readonly range: { key: Buffer; rangeEnd: Buffer },
    fromRevision: number,
    private readonly listener: WatchListener,
  ) {
    this.next = Math.max(1, fromRevision);
    this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
  }

  /** End the watch with `error`, once. */
  fail(error: Error): void {
    if (this.closed) return;
    this.close();
    this.listener.onError(error);
  }

  private connect(): void {
    this.source.openStream().then(
      (stream) => {
        if (this.closed) {
          stream.on('error', () => {});
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.on('data', (res: IWatchResponse) => {
          if (this.stream === stream) this.onResponse(res);
        });
        stream.on('error', (error: unknown) => {
          if (this.stream === stream) this.broken(error);
        });
        stream.on('end', () => {
          if (this.stream === stream) this.broken(new Error('etcd ended the watch stream'));
        });
        stream.write({
          create_request: { key: this.range.key, range_end: this.range.rangeEnd, start_revision: this.next },
        });
      },
      (error: unknown) => this.broken(error),
    );
  }

  private onResponse(res: IWatchResponse): void {
    if (this.closed) return;
    if (res.created) {
      this.brokenSince = undefined;
      this.attempt = 0;
    }
    const compactRevision = Number(res.compact_revision);
    if (compactRevision > 0) {
      // etcd keeps the compaction revision itself; history strictly below it is gone.
      this.fail(new CompactedError(this.next, compactRevision - 1));
      return;
    }
    if (res.canceled) {
      this.fail(new Error(`etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    const events = this.source.toEvents(res);
    if (events.length === 0) return;
    const last = events.at(-1)!;
    this.next = (last.type === 'put' ? last.entry.modRevision : last.modRevision) + 1;
    try {
      this.listener.onEvents(events);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private broken(error: unknown): void {
    if (this.closed) return;
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      stream.on('error', () => {});
      stream.cancel();
    }
    const now = Date.now();
    this.brokenSince ??= now;
    if (now - this.brokenSince >= this.source.deadlineMs) {
      this.fail(this.source.unavailable(error));
      return;
    }
    const delay = Math.min(1_000, 50 * 2 ** this.attempt++, this.brokenSince + this.source.deadlineMs - now);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
