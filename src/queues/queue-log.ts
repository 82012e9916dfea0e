import { closeSync, existsSync, fdatasync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { GroupCommit } from '../metrics/group-commit.js';
import { ServiceError } from '../model/errors.js';
import type { QueueRecord } from './records.js';

/**
 * The queues' append-only log: one JSON record a line, written in group commits (what arrives while a commit's
 * fdatasync runs on the thread pool is written together next, metrics/group-commit.ts), so an acknowledged
 * SendMessage is on disk whatever happens to the process after. At start the log is read back whole; a line torn
 * by a crash mid-write (only the last can be) is cut off. When the log outgrows `compactBytes`, the next commit
 * rewrites it as the records of the current state (a snapshot) into a new file renamed over the old one.
 *
 *   open: read + replay ──(term: write the term line, replay what slipped in before it)──▶ appending
 *   appending ──(size > compactBytes at a commit)──▶ snapshot to .next, fsync, rename, fsync dir ──▶ appending
 *   appending ──(the term no longer holds at a commit or after its sync)──▶ fenced: every caller refused
 *
 * Fencing (a leader's term, with etcd): the leader key's revision is the fencing token. The log opens with a
 * `{"t":"term","r":<revision>}` line and every commit starts with one; a replay skips the records that follow a
 * term line older than the newest seen before it, so a deposed leader that wrote after its successor opened the
 * log is not read. And no commit is written, nor acknowledged after its fsync, unless the term still holds by the
 * lease's clock (LeaderTerm.holds): what a deposed leader may still write before it notices is never acknowledged.
 */
export interface QueueLogTerm {
  /** The leader key's revision at election: increases from term to term. */
  readonly revision: number;
  /** Whether the term surely holds now. */
  readonly holds: () => boolean;
}

export interface QueueLogOptions {
  readonly path: string;
  /** Rewrite the log from the state once it is this large (default 64 MiB). */
  readonly compactBytes?: number;
  /** The records of the current state, for a compaction (the engine's snapshot: it already holds what is being committed). */
  readonly snapshot: () => Iterable<QueueRecord>;
  /** The leader's term the log is written in (etcd replicas); without one (the only replica) nothing is fenced. */
  readonly term?: QueueLogTerm;
}

/** The queues moved to another replica: what was not acknowledged may or may not be there; the client retries. */
export const fencedOff = () => new ServiceError('ServiceUnavailable', 'The queues are now served by another replica; retry the request.');

interface TermLine {
  readonly t: 'term';
  readonly r: number;
}

export class QueueLog {
  private fd: number;
  private size: number;
  private readonly commits: GroupCommit;
  /** Records appended and not committed yet. */
  private pending: QueueRecord[] = [];
  /** Whether a caller of the group commit stands for `pending` (one per commit, not one per record). */
  private queued = false;
  private last: Promise<void> = Promise.resolve();
  private closed = false;
  private fenced = false;
  private syncing = false;
  private readonly termLine: string;

  /** Reads the existing log (records to `replay`, in order) and opens it for appending. */
  constructor(private readonly options: QueueLogOptions, replay: (record: QueueRecord) => void) {
    const { term } = options;
    this.termLine = term ? `${JSON.stringify({ t: 'term', r: term.revision } satisfies TermLine)}\n` : '';
    const reader = new Replayer(replay);
    this.size = readBack(options.path, reader);
    this.fd = openSync(options.path, 'a');
    if (term) {
      try {
        this.startTerm(term, reader);
      } catch (error) {
        closeSync(this.fd);
        throw error;
      }
    }
    this.commits = new GroupCommit({
      commit: () => {
        const records = this.pending;
        this.pending = [];
        this.queued = false;
        this.write(records);
      },
      sync: (done) => {
        this.syncing = true;
        fdatasync(this.fd, (error) => {
          this.syncing = false;
          if (this.closed) closeSync(this.fd);
          // Written while the term held, but it may have ended during the sync: not acknowledged then.
          if (!error && this.options.term && !this.options.term.holds()) {
            this.fenced = true;
            done(fencedOff());
          } else done(error);
        });
      },
    });
  }

  /**
   * Queues `record` for the next commit; `durable()` resolves once it is on disk, or rejects if it never will be
   * (never a throw here: a long poll's receive runs in a microtask, where nobody would catch it).
   */
  append(record: QueueRecord): void {
    if (this.closed || this.fenced) {
      this.last = Promise.reject(this.closed ? new Error('the queue log is closed') : fencedOff());
      this.last.catch(() => undefined);
      return;
    }
    this.pending.push(record);
    if (this.queued) return;
    this.queued = true;
    this.last = this.commits.add();
    // Its failure reaches the callers through durable().
    this.last.catch(() => undefined);
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

  /**
   * The term line, synced, then whatever a deposed leader appended between the read-back and it (records of an
   * older term, written before this term began: they count).
   */
  private startTerm(term: QueueLogTerm, reader: Replayer): void {
    if (term.revision < reader.newestTerm) {
      // A newer leader wrote here (this one is deposed), or etcd was replaced by a new one whose revisions restarted
      // while the shared directory was kept: then the log must be moved away by hand (docs/queues.md).
      throw new Error(`the queue log ${this.options.path} was written in a newer leader term (revision ${reader.newestTerm}) than this one (${term.revision}); not opening it`);
    }
    const from = this.size;
    writeAll(this.fd, this.termLine);
    fdatasyncSync(this.fd);
    const bytes = readFileSync(this.options.path);
    const mine = bytes.indexOf(this.termLine, from);
    if (mine < 0) throw new Error(`the queue log ${this.options.path} lost the term line just written`);
    replayLines(bytes.subarray(0, mine), from, reader);
    this.size = bytes.length;
  }

  private write(records: readonly QueueRecord[]): void {
    if (this.closed) throw new Error('the queue log is closed');
    if (this.fenced || (this.options.term && !this.options.term.holds())) {
      this.fenced = true;
      throw fencedOff();
    }
    if (this.size > (this.options.compactBytes ?? 64 * 1024 * 1024)) {
      // The snapshot already holds these records' effects: they are not written again.
      this.compact();
      return;
    }
    let text = this.termLine;
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    this.size += writeAll(this.fd, text);
  }

  private compact(): void {
    const next = `${this.options.path}.next`;
    const fd = openSync(next, 'w');
    let size = 0;
    try {
      let chunk = this.termLine;
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
    // A deposed leader must not replace its successor's log with its own state.
    if (this.options.term && !this.options.term.holds()) {
      this.fenced = true;
      throw fencedOff();
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

/** Applies records in log order, skipping those that follow a term line older than the newest seen before it. */
class Replayer {
  newestTerm = 0;
  private stale = false;

  constructor(private readonly replay: (record: QueueRecord) => void) {}

  line(record: QueueRecord | TermLine): void {
    if (record.t === 'term') {
      this.stale = record.r < this.newestTerm;
      if (!this.stale) this.newestTerm = record.r;
    } else if (!this.stale) this.replay(record);
  }
}

/** Replays the whole lines of `bytes` from `start`; returns where the first line not whole or not JSON begins. */
function replayLines(bytes: Buffer, start: number, reader: Replayer): number {
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (end === -1) return start;
    if (end > start) {
      let record: QueueRecord | TermLine;
      try {
        record = JSON.parse(bytes.toString('utf8', start, end)) as QueueRecord | TermLine;
      } catch {
        // Only a crash mid-write leaves a bad line, and only as the last one.
        return start;
      }
      reader.line(record);
    }
    start = end + 1;
  }
}

/** Replays the log's records; returns the length of its whole lines (a torn last line is cut off first). */
function readBack(path: string, reader: Replayer): number {
  if (!existsSync(path)) return 0;
  const bytes = readFileSync(path);
  const start = replayLines(bytes, 0, reader);
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
