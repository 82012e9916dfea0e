import { closeSync, fdatasync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The write-ahead log's durability and upkeep, off the event loop:
 *
 * - {@link WalFiles.sync}: fdatasync of the log on libuv's thread pool, what makes a group commit durable
 *   (the store's connection commits with synchronous=NORMAL, which does not sync).
 * - {@link WalFiles.checkpoint}: copying the log into the database file, from a worker thread's own connection
 *   (`PRAGMA wal_checkpoint(PASSIVE)`: it never waits for, nor blocks, the writer). SQLite's automatic checkpoint
 *   runs inside the commit that crosses its threshold, on the event loop, with two fsyncs (log, then database),
 *   so a steady ingest stalled on every such commit; the store's own connection keeps only a far threshold as a
 *   backstop. A checkpoint only copies committed pages, so no acknowledged datapoint depends on it: what the
 *   log holds is durable once synced, checkpointed or not.
 *
 *   idle ──checkpoint(done)──▶ running (worker) ──result or worker error──▶ idle, done()
 */

// The worker: one connection, one passive checkpoint per request. CommonJS (an eval'd worker), with the
// better-sqlite3 the store uses (its resolved path).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { timeout: 10000 });
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  let result = null;
  try {
    result = { frames: db.pragma('wal_checkpoint(PASSIVE)')[0] };
  } catch (error) {
    result = { error: String(error && error.message || error) };
  }
  parentPort.postMessage(result);
});
`;

/** How long the next commit waits for a checkpoint at most. */
const CHECKPOINT_WAIT_MS = 2_000;

const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');

export class WalFiles {
  /** The log, opened for fdatasync at the first commit; closed with the store, once no sync uses it. */
  private fd: number | undefined;
  private syncing = false;
  private closed = false;
  private worker: Worker | undefined;
  /** Who waits for the running checkpoint, and until when. */
  private onCheckpoint: (() => void) | undefined;
  private giveUp: NodeJS.Timeout | undefined;
  /** Checkpoints finished, and the last one's error (for tests and diagnostics). */
  checkpoints = 0;
  lastError: string | undefined;

  constructor(private readonly dbPath: string) {}

  /** The log's data to disk, on the thread pool (fdatasync: the data and the size that reaches it). */
  sync(done: (error: Error | null) => void): void {
    let fd: number;
    try {
      fd = this.fd ??= openSync(`${this.dbPath}-wal`, 'r');
    } catch (error) {
      done(error as Error);
      return;
    }
    this.syncing = true;
    fdatasync(fd, (error) => {
      this.syncing = false;
      if (this.closed) this.closeLog();
      done(error);
    });
  }

  /**
   * A passive checkpoint on the worker (started on first use); `done` when it has finished or failed. The store
   * asks between two commits, and starts the next once this is done: with no writer meanwhile, the checkpoint
   * copies the whole log, and the next commit starts the log over (SQLite rewinds a fully copied log) instead
   * of growing it.
   */
  checkpoint(done: () => void): void {
    if (this.closed) {
      done();
      return;
    }
    if (!this.worker) {
      const worker = new Worker(WORKER, { eval: true, workerData: { sqlite: sqlitePath, path: this.dbPath } });
      // A store left open must not keep the process alive.
      worker.unref();
      worker.on('message', (result: { error?: string }) => {
        this.checkpoints++;
        this.lastError = result.error;
        this.finishCheckpoint();
      });
      worker.on('error', (error) => {
        this.lastError = error.message;
        // Started again on the next request; meanwhile the connection's own far threshold still checkpoints.
        if (this.worker === worker) this.worker = undefined;
        this.finishCheckpoint();
      });
      this.worker = worker;
    }
    this.onCheckpoint = done;
    // Commits wait for this: a worker stuck on its disk must not stop them (the next request queues behind it).
    this.giveUp = setTimeout(() => this.finishCheckpoint(), CHECKPOINT_WAIT_MS);
    this.giveUp.unref();
    this.worker.postMessage('checkpoint');
  }

  private finishCheckpoint(): void {
    clearTimeout(this.giveUp);
    const done = this.onCheckpoint;
    this.onCheckpoint = undefined;
    done?.();
  }

  close(): void {
    this.closed = true;
    this.worker?.postMessage('close');
    this.worker = undefined;
    this.finishCheckpoint();
    if (!this.syncing) this.closeLog();
  }

  private closeLog(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
