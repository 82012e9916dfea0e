import { close, closeSync, fsync, fsyncSync, open, openSync, read, readSync, renameSync, unlink, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { QueueRecord } from './records.js';

/**
 * One compaction of the queue log, off the event loop but for a short start and end (queue-log.ts drives it):
 *
 *   start (at a commit: the state's records, captured)
 *     ──▶ writing: .next ← term line + the records, serialized a slice per event-loop turn, written and fsynced on
 *         the thread pool, while commits go on appending to the log
 *     ──▶ catching up: .next ← the log's bytes appended since the capture, copied and fsynced on the thread pool,
 *         again while what is left is over {@link CATCH_UP_BYTES}
 *     ──▶ ready ──finish (at a commit: no sync in flight)──▶ the last bytes copied, fsync, rename over the log,
 *         fsync of the directory ──▶ done
 *   any step ──error or abandon()──▶ failed: .next removed, the log untouched
 *
 * Why it is exact: the capture is the state after every record written up to `from` (the log's length then), and
 * .next ends with the log's bytes from `from` on, so replaying .next applies the same records to the same state.
 * Until the rename the log is whole and is what a restart reads; the rename is atomic.
 *
 * The capture is the one pause proportional to the live messages: the engine's snapshot copies references to the
 * messages' immutable data and their few changing fields into columns; records are built, serialized and written
 * later, a slice at a time.
 */
export type CompactionState = 'writing' | 'catching-up' | 'ready' | 'failed' | 'done';

/** Serializing one slice for at most this long before yielding to the event loop. */
const SLICE_MS = 4;
/** Writes of about this much at a time. */
const CHUNK_CHARS = 1 << 20;
/** What is left to copy at the end, on the event loop (the commits of one catch-up step, at most about this). */
const CATCH_UP_BYTES = 256 * 1024;

const openAsync = promisify(open);
const writeAsync = promisify(write) as (fd: number, buffer: Buffer) => Promise<{ bytesWritten: number }>;
const readAsync = promisify(read) as (fd: number, buffer: Buffer, offset: number, length: number, position: number) => Promise<{ bytesRead: number }>;
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

export interface CompactionOptions {
  /** The log. */
  readonly path: string;
  /** The term line every log starts with ('' without a term). */
  readonly header: string;
  /** The state's records, as captured at `from` (built as they are iterated). */
  readonly records: Iterable<QueueRecord>;
  /** The log's length when the records were captured. */
  readonly from: number;
  /** The log's length now (its commits go on while the compaction runs). */
  readonly logSize: () => number;
  /** Told once the compaction is ready to finish, or failed. */
  readonly settled?: () => void;
}

export class LogCompaction {
  state: CompactionState = 'writing';
  error: unknown;
  private readonly next: string;
  private fd: number | undefined;
  /** The bytes of .next so far. */
  private size = 0;
  /** How far into the log .next holds its bytes. */
  private copied: number;
  private abandoned = false;

  constructor(private readonly options: CompactionOptions) {
    this.next = `${options.path}.next`;
    this.copied = options.from;
    this.run().then(
      () => options.settled?.(),
      (error: unknown) => {
        this.fail(error);
        options.settled?.();
      },
    );
  }

  /**
   * The last step, synchronously (at a commit, when no write or sync of the log is in flight): copies what the log
   * gained since, syncs, and renames .next over the log. `beforeRename` throws to refuse (a deposed leader).
   * Returns the new log's length.
   */
  finish(beforeRename: () => void): number {
    if (this.state !== 'ready' || this.fd === undefined) throw new Error(`the compaction is ${this.state}, not ready`);
    try {
      const end = this.options.logSize();
      if (end > this.copied) {
        const bytes = Buffer.alloc(end - this.copied);
        const log = openSync(this.options.path, 'r');
        try {
          let got = 0;
          while (got < bytes.length) got += readSync(log, bytes, got, bytes.length - got, this.copied + got);
        } finally {
          closeSync(log);
        }
        let written = 0;
        while (written < bytes.length) written += writeSync(this.fd, bytes, written);
        this.size += bytes.length;
        this.copied = end;
      }
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      beforeRename();
      renameSync(this.next, this.options.path);
      const dir = openSync(dirname(this.options.path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (error) {
      this.fail(error);
      throw error;
    }
    this.state = 'done';
    return this.size;
  }

  /** Stops it (the log closes or is fenced): .next is removed once no step uses it. */
  abandon(): void {
    this.abandoned = true;
    if (this.state === 'ready') this.fail(new Error('abandoned'));
  }

  private async run(): Promise<void> {
    this.fd = await openAsync(this.next, 'w');
    await this.writeSnapshot();
    this.state = 'catching-up';
    while (this.options.logSize() - this.copied > CATCH_UP_BYTES) await this.catchUp();
    this.check();
    this.state = 'ready';
  }

  /** The term line and the records, a slice per turn; then synced. */
  private async writeSnapshot(): Promise<void> {
    const records = this.options.records[Symbol.iterator]();
    let chunk = this.options.header;
    for (let next = records.next(); !next.done; ) {
      const until = performance.now() + SLICE_MS;
      for (let i = 1; !next.done && chunk.length < CHUNK_CHARS; i++) {
        chunk += `${JSON.stringify(next.value)}\n`;
        next = records.next();
        if ((i & 255) === 0 && performance.now() > until) break;
      }
      await this.append(Buffer.from(chunk, 'utf8'));
      chunk = '';
    }
    if (chunk.length > 0) await this.append(Buffer.from(chunk, 'utf8'));
    this.check();
    await fsyncAsync(this.fd!);
  }

  /** Copies the log's bytes from where .next stops holding them to its length now, and syncs. */
  private async catchUp(): Promise<void> {
    this.check();
    const end = this.options.logSize();
    const bytes = Buffer.alloc(end - this.copied);
    const log = await openAsync(this.options.path, 'r');
    try {
      let got = 0;
      while (got < bytes.length) {
        const { bytesRead } = await readAsync(log, bytes.subarray(got), 0, bytes.length - got, this.copied + got);
        if (bytesRead === 0) throw new Error(`the queue log ended at ${this.copied + got}, before ${end}`);
        got += bytesRead;
      }
    } finally {
      await closeAsync(log);
    }
    await this.append(bytes);
    await fsyncAsync(this.fd!);
    this.copied = end;
  }

  private async append(bytes: Buffer): Promise<void> {
    this.check();
    let written = 0;
    while (written < bytes.length) written += (await writeAsync(this.fd!, bytes.subarray(written))).bytesWritten;
    this.size += bytes.length;
  }

  private check(): void {
    if (this.abandoned) throw new Error('abandoned');
  }

  private fail(error: unknown): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.error = error;
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    unlink(this.next, () => undefined);
  }
}
