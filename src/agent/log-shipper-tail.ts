import { open, type FileHandle } from 'node:fs/promises';
import type { LogsApi } from './aws-json/services.js';
import type { Logger } from 'pino';
import type { LogDestination } from '../model/log-naming.js';
import { batchSize, monotonic } from './log-shipper-batch.js';
import type { QueueBudget } from './log-shipper-budget.js';
import { CriAssembler, isAfter, type CriEvent, type CriMark } from './log-shipper-cri.js';
import type { ShippedState, ShippedStateFiles } from './log-shipper-state.js';
import type { LogSource } from './task-engine/deps.js';

export interface TailOptions {
  readonly source: LogSource;
  readonly destination: LogDestination;
  readonly saved: ShippedState | undefined;
  /** The client, made (its SDK package loaded) when the first line is shipped. */
  readonly client: () => Promise<LogsApi>;
  readonly states: ShippedStateFiles;
  /** Queued characters over every container the agent follows (see log-shipper-budget.ts). */
  readonly budget: QueueBudget;
  readonly log: Logger;
  readonly flushMs: number;
  readonly finishTimeoutMs: number;
  readonly now: () => number;
}

/** The SDK's commands, loaded with the client: only once a container has something to ship. */

/** Bytes read from the file per read call. */
const READ_CHUNK = 1024 * 1024;
/** Stop reading ahead while this many characters wait to be sent (the control plane is slow or away). */
const MAX_QUEUED_CHARS = 8 * 1024 * 1024;
/** At most one "still failing" warning per container this often. */
const WARN_EVERY_MS = 30_000;

const errorName = (error: unknown) => (error as { name?: string })?.name ?? '';

/**
 * One container's log, followed: every `flushMs` it reads what the file gained, assembles events, and
 * sends them in batches (sooner when a batch is full). After each acknowledged batch it saves where it
 * is, so a restarted agent neither loses nor repeats lines. A batch the log service refuses as invalid is
 * dropped with an error in the agent log; anything else (the control plane away, throttled, failing) is
 * retried on the next round, reading no further ahead than MAX_QUEUED_CHARS meanwhile.
 */
export class ContainerTail {
  private assembler!: CriAssembler;
  private mark: CriMark | undefined;
  private resumeAt = 0;
  private readPos = 0;
  private queue: CriEvent[] = [];
  private queuedChars = 0;
  private file: FileHandle | undefined;
  private ended = false;
  /** The group and stream are known to exist. */
  private ready = false;
  /** The destination cannot be written (an invalid name): events are dropped, once reported. */
  private broken = false;
  private lastTimestamp = 0;
  private lastWarning = -Infinity;
  /** A refused CreateLogGroup was reported (once per container). */
  private refusalReported = false;
  private stopping = false;
  /** stop() came while finish() was retrying: finish() leaves the state for the next agent. */
  private abandoned = false;
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(private readonly o: TailOptions) {
    this.loop = this.run();
  }

  /** Ship everything left in the (stopped) container's log, then forget it. */
  async finish(): Promise<void> {
    await this.halt();
    const deadline = this.o.now() + this.o.finishTimeoutMs;
    for (;;) {
      // The agent is shutting down (stop()): the saved state lets the next agent finish what is left.
      if (this.abandoned) return this.closeFile();
      await this.tick(true).catch((err: unknown) => this.failing(err));
      if (this.abandoned) return this.closeFile();
      if (this.ended && this.queue.length === 0) break;
      if (this.o.now() >= deadline) {
        this.o.log.warn({ events: this.queue.length }, 'gave up shipping the last lines of a container log');
        break;
      }
      // Events still waiting means the last send failed: pause before retrying. Otherwise read on.
      if (this.queue.length > 0) await this.sleep(Math.min(this.o.flushMs, 500));
    }
    this.dropQueue();
    await this.closeFile();
    await this.o.states.remove(this.o.source.runtimeId);
  }

  /** Stop following (agent shutdown); the saved state lets the next agent carry on. */
  async stop(): Promise<void> {
    this.abandoned = true;
    this.wake?.();
    await this.halt();
    // What was not sent is read again by the next agent, from the saved state.
    this.dropQueue();
    await this.closeFile();
  }

  private async halt(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    try {
      const saved = this.o.saved ?? (await this.o.states.load(this.o.source.runtimeId));
      this.mark = saved?.mark;
      this.resumeAt = saved?.resume ?? 0;
      if (!saved) await this.save();
      this.reset(this.resumeAt);
      while (!this.stopping) {
        await this.tick(false).catch((err: unknown) => this.failing(err));
        if (!this.stopping) await this.sleep(this.o.flushMs);
      }
    } catch (err) {
      this.o.log.error({ err }, 'log shipping stopped');
    }
  }

  private reset(offset: number): void {
    this.assembler = new CriAssembler(offset, this.o.now);
    this.readPos = offset;
    this.dropQueue();
  }

  private dropQueue(): void {
    this.o.budget.add(-this.queuedChars);
    this.queue = [];
    this.queuedChars = 0;
  }

  /** Read what the file gained, send full batches as they fill, then the rest. */
  private async tick(final: boolean): Promise<void> {
    if (this.ended) return void (await this.sendAll());
    if (!(await this.openFile())) {
      // No file: the container never wrote (or never started). Finishing has nothing to send.
      if (final) this.ended = true;
      return;
    }
    const size = (await this.file!.stat()).size;
    if (size < this.readPos) {
      this.o.log.warn({ size, offset: this.readPos }, 'container log shrank (truncated); reading it again from the start');
      this.mark = undefined;
      this.reset(0);
    }
    while (this.readPos < size && this.queuedChars < MAX_QUEUED_CHARS && this.o.budget.mayRead(this.queuedChars)) {
      const length = Math.min(READ_CHUNK, size - this.readPos);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await this.file!.read(buffer, 0, length, this.readPos);
      if (bytesRead === 0) break;
      this.readPos += bytesRead;
      this.enqueue(this.assembler.push(buffer.subarray(0, bytesRead)));
      while (this.queue.length > batchSize(this.queue)) {
        if (!(await this.sendOne())) return;
      }
    }
    if (final && this.readPos >= size) {
      this.enqueue(this.assembler.end());
      this.ended = true;
    }
    await this.sendAll();
  }

  private enqueue(events: readonly CriEvent[]): void {
    for (const e of events) {
      // After a restart the assembler rebuilds a few events that were already delivered.
      if (!isAfter(e, this.mark)) continue;
      this.queue.push(e);
      this.queuedChars += e.message.length;
      this.o.budget.add(e.message.length);
    }
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length > 0) {
      if (!(await this.sendOne())) return;
    }
  }

  /** Send the first batch of the queue; false when it must be retried later. */
  private async sendOne(): Promise<boolean> {
    const n = batchSize(this.queue);
    const batch = this.queue.slice(0, n);
    try {
      await this.put(batch);
    } catch (err) {
      if (errorName(err) !== 'InvalidParameterException') {
        this.failing(err);
        return false;
      }
      this.o.log.error({ err, events: n }, 'the log service refused a batch of container log events; dropped');
    }
    const last = batch.at(-1)!;
    this.queue.splice(0, n);
    for (const e of batch) this.queuedChars -= e.message.length;
    this.o.budget.add(-batch.reduce((n, e) => n + e.message.length, 0));
    this.mark = { end: last.end, seq: last.seq };
    this.resumeAt = last.resume;
    await this.save().catch((err: unknown) => this.o.log.warn({ err }, 'could not save the log shipping state'));
    return true;
  }

  private async put(batch: readonly CriEvent[]): Promise<void> {
    if (this.broken) return;
    const { group, stream } = this.o.destination;
    const { events, last } = monotonic(batch, this.lastTimestamp);
    const client = await this.o.client();
    const request = {
      logGroupName: group,
      logStreamName: stream,
      logEvents: events.map((e) => ({ timestamp: e.timestamp, message: e.message })),
    };
    if (!this.ready) await this.ensureDestination();
    if (this.broken) return;
    let response;
    try {
      response = await client.send('PutLogEvents', request);
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') throw err;
      // Deleted while we were writing to it: create it again and retry once.
      this.ready = false;
      await this.ensureDestination();
      response = await client.send('PutLogEvents', request);
    }
    this.lastTimestamp = last;
    const rejected = response.rejectedLogEventsInfo;
    if (rejected) this.o.log.warn({ rejected }, 'the log service refused some events as too old or too new');
  }

  /**
   * Create the stream, and the group when it is missing. ECS creates an awslogs group only with
   * `awslogs-create-group: true`; berth creates it whenever it is missing, so lines are never lost to a
   * missing group.
   */
  private async ensureDestination(): Promise<void> {
    const { group, stream } = this.o.destination;
    const client = await this.o.client();
    const ignoreExisting = (err: unknown): false => {
      if (errorName(err) !== 'ResourceAlreadyExistsException') throw err;
      return false;
    };
    try {
      try {
        await client.send('CreateLogStream', { logGroupName: group, logStreamName: stream });
      } catch (err) {
        if (errorName(err) !== 'ResourceNotFoundException') throw err;
        const created = await client.send('CreateLogGroup', { logGroupName: group }).then(
          () => true,
          (err: unknown) => {
            if (errorName(err) === 'AccessDeniedException') this.groupRefused(err);
            return ignoreExisting(err);
          },
        );
        if (created) this.o.log.info({ group }, 'created the missing log group');
        await client.send('CreateLogStream', { logGroupName: group, logStreamName: stream });
      }
    } catch (err) {
      if (errorName(err) === 'ResourceAlreadyExistsException') {
        this.ready = true;
        return;
      }
      if (errorName(err) === 'InvalidParameterException') {
        this.broken = true;
        this.o.log.error({ err, group, stream }, 'cannot ship this container’s logs: the log service refuses its group or stream name');
        return;
      }
      throw err;
    }
    this.ready = true;
  }

  /**
   * The group is missing and the agent may not create it: AmazonEC2ContainerServiceforEC2Role does not allow
   * logs:CreateLogGroup (ECS has users create the group, or add the action for awslogs-create-group). Said once,
   * plainly, at error level; the lines wait and are retried, so creating the group or allowing the action heals it.
   */
  private groupRefused(err: unknown): void {
    if (this.refusalReported) return;
    this.refusalReported = true;
    const group = this.o.destination.group;
    this.o.log.error(
      { err, group, waiting: this.queue.length },
      `AccessDeniedException: the log group ${group} does not exist and the agent's credentials may not create it (logs:CreateLogGroup): create the group, or allow that action; the container's lines wait until then`,
    );
  }

  private failing(err: unknown): void {
    const now = this.o.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.o.log.warn({ err, waiting: this.queue.length }, 'shipping container logs failed; retrying');
  }

  private save(): Promise<void> {
    return this.o.states.save({ source: this.o.source, ...(this.mark ? { mark: this.mark } : {}), resume: this.resumeAt });
  }

  private async openFile(): Promise<boolean> {
    if (this.file) return true;
    try {
      this.file = await open(this.o.source.logPath, 'r');
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close().catch(() => {});
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
