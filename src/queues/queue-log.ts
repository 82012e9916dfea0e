import { closeSync, existsSync, fdatasync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { GroupCommit } from '../metrics/group-commit.js';
import { ServiceError } from '../model/errors.js';
import { LogCompaction } from './log-compaction.js';
import type { QueueRecord } from './records.js';

/**
 * The queues' append-only log: one JSON record a line, written in group commits (what arrives while a commit's
 * fdatasync runs on the thread pool is written together next, metrics/group-commit.ts), so an acknowledged
 * SendMessage is on disk whatever happens to the process after. At start the log is read back whole; a line torn
 * by a crash mid-write (only the last can be) is cut off. When the log outgrows `compactBytes` (or twice its size
 * after the last compaction), a commit captures the current state's records and a compaction (log-compaction.ts)
 * writes them, then the log's bytes appended meanwhile, to a new file, off the event loop; a later commit renames
 * it over the log.
 *
 *   open: read + replay ──(term: write the term line, replay what slipped in before it)──▶ appending
 *   appending ──(size over the threshold at a commit)──▶ appending + compacting (capture; .next written meanwhile)
 *   appending + compacting ──(a commit once it is ready)──▶ tail copied, fsync, rename, fsync dir ──▶ appending
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
  /** Told of a compaction that failed (the log is untouched; another is tried once the log has grown as much again). */
  readonly compactionFailed?: (error: unknown) => void;
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
  private compaction: LogCompaction | undefined;
  /** The log's size that starts the next compaction. */
  private compactAt: number;

  /** Reads the existing log (records to `replay`, in order) and opens it for appending. */
  constructor(private readonly options: QueueLogOptions, replay: (record: QueueRecord) => void) {
    const { term } = options;
    this.termLine = term ? `${JSON.stringify({ t: 'term', r: term.revision } satisfies TermLine)}\n` : '';
    const reader = new Replayer(replay);
    this.size = readBack(options.path, reader);
    this.compactAt = options.compactBytes ?? 64 * 1024 * 1024;
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
    this.compaction?.abandon();
    if (!this.syncing) closeSync(this.fd);
  }

  /** Where the running compaction is, if one runs (tests). */
  compacting(): LogCompaction['state'] | undefined {
    return this.compaction?.state;
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
      this.compaction?.abandon();
      throw fencedOff();
    }
    if (this.compaction?.state === 'ready') this.finishCompaction();
    let text = this.termLine;
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    this.size += writeAll(this.fd, text);
    if (this.size > this.compactAt && !this.compaction) this.startCompaction();
  }

  /**
   * Captures the state (which holds every record written so far, these included) at the log's length now; the
   * compaction writes it and what the log gains meanwhile off the event loop.
   */
  private startCompaction(): void {
    const from = this.size;
    this.compaction = new LogCompaction({
      path: this.options.path,
      header: this.termLine,
      records: this.options.snapshot(),
      from,
      logSize: () => this.size,
      settled: () => {
        const c = this.compaction;
        if (c?.state !== 'failed') return;
        this.compaction = undefined;
        this.compactAt = Math.max(this.compactAt, 2 * this.size);
        if (!this.closed && !this.fenced) this.options.compactionFailed?.(c.error);
      },
    });
  }

  /** At a commit, before its write (no sync in flight): the compacted file replaces the log. */
  private finishCompaction(): void {
    const compaction = this.compaction!;
    this.compaction = undefined;
    let size: number;
    try {
      size = compaction.finish(() => {
        // A deposed leader must not replace its successor's log with its own state.
        if (this.options.term && !this.options.term.holds()) {
          this.fenced = true;
          throw fencedOff();
        }
      });
    } catch (error) {
      if (this.fenced) throw error;
      this.compactAt = Math.max(this.compactAt, 2 * this.size);
      this.options.compactionFailed?.(error);
      return;
    }
    closeSync(this.fd);
    this.fd = openSync(this.options.path, 'a');
    this.size = size;
    this.compactAt = Math.max(this.options.compactBytes ?? 64 * 1024 * 1024, 2 * size);
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
