import { closeSync, existsSync, fdatasync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { GroupCommit } from '../metrics/group-commit.js';
import type { QueueRecord } from './records.js';

/**
 * The queues' append-only log: one JSON record a line, written in group commits (what arrives while a commit's
 * fdatasync runs on the thread pool is written together next, metrics/group-commit.ts), so an acknowledged
 * SendMessage is on disk whatever happens to the process after. At start the log is read back whole; a line torn
 * by a crash mid-write (only the last can be) is cut off. When the log outgrows `compactBytes`, the next commit
 * rewrites it as the records of the current state (a snapshot) into a new file renamed over the old one.
 *
 *   open: read + replay ──▶ appending ──(size > compactBytes at a commit)──▶ snapshot to .next, fsync, rename, fsync dir ──▶ appending
 */
export interface QueueLogOptions {
  readonly path: string;
  /** Rewrite the log from the state once it is this large (default 64 MiB). */
  readonly compactBytes?: number;
  /** The records of the current state, for a compaction (the engine's snapshot: it already holds what is being committed). */
  readonly snapshot: () => Iterable<QueueRecord>;
}

export class QueueLog {
  private fd: number;
  private size: number;
  private readonly commits: GroupCommit;
  /** Records appended and not committed yet: the group commit's waiting callers added them, in order. */
  private pending: QueueRecord[] = [];
  private last: Promise<void> = Promise.resolve();
  private closed = false;
  private syncing = false;

  /** Reads the existing log (records to `replay`, in order) and opens it for appending. */
  constructor(private readonly options: QueueLogOptions, replay: (record: QueueRecord) => void) {
    this.size = readBack(options.path, replay);
    this.fd = openSync(options.path, 'a');
    this.commits = new GroupCommit({
      commit: () => {
        const records = this.pending;
        this.pending = [];
        this.write(records);
      },
      sync: (done) => {
        this.syncing = true;
        fdatasync(this.fd, (error) => {
          this.syncing = false;
          if (this.closed) closeSync(this.fd);
          done(error);
        });
      },
    });
  }

  /** Queues `record` for the next commit; resolves once it is durable. */
  append(record: QueueRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the queue log is closed'));
    this.pending.push(record);
    this.last = this.commits.add();
    return this.last;
  }

  /** Resolves once everything appended so far is durable (commits complete in order). */
  durable(): Promise<void> {
    return this.last;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.syncing) closeSync(this.fd);
  }

  private write(records: readonly QueueRecord[]): void {
    if (this.closed) throw new Error('the queue log is closed');
    if (this.size > (this.options.compactBytes ?? 64 * 1024 * 1024)) {
      // The snapshot already holds these records' effects: they are not written again.
      this.compact();
      return;
    }
    let text = '';
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written);
    this.size += bytes.length;
  }

  private compact(): void {
    const next = `${this.options.path}.next`;
    const fd = openSync(next, 'w');
    let size = 0;
    try {
      let chunk = '';
      for (const r of this.options.snapshot()) {
        chunk += `${JSON.stringify(r)}\n`;
        if (chunk.length > 1 << 20) {
          size += writeAll(fd, chunk);
          chunk = '';
        }
      }
      size += writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(next, this.options.path);
    const dir = openSync(dirname(this.options.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    closeSync(this.fd);
    this.fd = openSync(this.options.path, 'a');
    this.size = size;
  }
}

function writeAll(fd: number, text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written);
  return bytes.length;
}

/** Replays the log's records; returns the length of its whole lines (a torn last line is cut off first). */
function readBack(path: string, replay: (record: QueueRecord) => void): number {
  if (!existsSync(path)) return 0;
  const bytes = readFileSync(path);
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (end === -1) break;
    if (end > start) {
      let record: QueueRecord;
      try {
        record = JSON.parse(bytes.toString('utf8', start, end)) as QueueRecord;
      } catch {
        // Only a crash mid-write leaves a bad line, and only as the last one.
        break;
      }
      replay(record);
    }
    start = end + 1;
  }
  if (start < bytes.length) {
    // Appends after a torn line would join it: cut the file back to its last whole line.
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, start);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return start;
}
