import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ServiceError } from '../model/errors.js';
import { ATTEMPT_WINDOW_MS, QueueEngine } from './engine.js';
import type { Message, Queue } from './queue.js';
import { QueueLog, type QueueLogTerm } from './queue-log.js';

/**
 * The queues of one berth control plane, as a running process holds them: the engine's state in memory, its log on
 * disk, and the long polls waiting for messages. One process owns the log at a time (docs/queues.md): the only
 * replica with a sqlite or memory store, the leader with etcd.
 *
 * A long poll: ReceiveMessage with WaitTimeSeconds > 0 finding nothing waits on its queue; a send, a visibility set
 * to 0 or a message moved in wakes the queue's waiters at once, and a timer wakes them when the earliest in-flight
 * or delayed message becomes visible; each waiter tries again and answers when it got messages or its time is up.
 */
export interface QueueHostOptions {
  /** The log file (`<shared dir>/queues/queues.log`). */
  readonly path: string;
  readonly arnOf: (name: string) => string;
  readonly now: () => number;
  readonly compactBytes?: number;
  /** The leader's term the log is written in (etcd replicas): fences the log (queue-log.ts). */
  readonly term?: QueueLogTerm;
}

/** Told of the messages a receive took, at once: what it writes joins the same commit as the receive's records. */
type Taken = (queue: Queue, messages: readonly Message[]) => void;

interface Waiter {
  readonly tryReceive: () => boolean;
  readonly deadline: number;
}

export class QueueHost {
  readonly engine: QueueEngine;
  private readonly log: QueueLog;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private closed = false;
  private random = Buffer.alloc(0);
  private randomAt = 0;

  constructor(private readonly options: QueueHostOptions) {
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    let log: QueueLog | undefined;
    this.engine = new QueueEngine({
      arnOf: options.arnOf,
      sink: (record) => {
        log!.append(record);
        if (record.t === 'send' || record.t === 'vis' || record.t === 'move') this.wake(record.t === 'move' ? record.to : record.q);
      },
    });
    log = this.log = new QueueLog({ path: options.path, ...(options.compactBytes !== undefined ? { compactBytes: options.compactBytes } : {}), snapshot: () => this.engine.snapshot(options.now()), ...(options.term ? { term: options.term } : {}) }, (r) => this.engine.replay(r));
  }

  now(): number {
    return this.options.now();
  }

  /** Resolves once every record of the operations run so far is on disk: an operation awaits it before answering. */
  durable(): Promise<void> {
    return this.log.durable();
  }

  /**
   * A receive's token for its receipt handle: 9 random bytes, taken from a pool drawn 4 KiB at a time (a
   * randomBytes call per receive was 5% of the server's CPU in batched receives, bench/sqs-throughput).
   */
  newReceipt(): string {
    if (this.randomAt + 9 > this.random.length) {
      this.random = randomBytes(9 * 455);
      this.randomAt = 0;
    }
    this.randomAt += 9;
    return this.random.toString('base64url', this.randomAt - 9, this.randomAt);
  }

  /**
   * Receives from `queue` (by name, looked up again after each wait: it may be deleted meanwhile), waiting up to
   * `waitMs` for a message; durable before it resolves (with what `taken` wrote).
   */
  async receive(name: string, max: number, visibilityMs: number, waitMs: number, taken?: Taken): Promise<{ queue: Queue; messages: Message[] }> {
    const first = this.take(name, max, visibilityMs);
    if (first.messages.length > 0) taken?.(first.queue, first.messages);
    if (first.messages.length > 0 || waitMs <= 0) {
      await this.durable();
      return first;
    }
    const messages = await new Promise<Message[]>((resolve) => {
      const set = this.waiters.get(name) ?? new Set<Waiter>();
      this.waiters.set(name, set);
      const waiter: Waiter = {
        deadline: this.now() + waitMs,
        tryReceive: () => {
          const got = this.engine.queues.has(name) ? this.take(name, max, visibilityMs).messages : [];
          if (got.length === 0 && this.now() < waiter.deadline && !this.closed && this.engine.queues.has(name)) return false;
          if (got.length > 0) taken?.(this.engine.queues.get(name)!, got);
          set.delete(waiter);
          clearTimeout(expiry);
          resolve(got);
          return true;
        },
      };
      const expiry = setTimeout(() => waiter.tryReceive() || (set.delete(waiter), resolve([])), waitMs);
      set.add(waiter);
      this.armTimer(name);
    });
    await this.durable();
    return { queue: this.engine.queues.get(name) ?? first.queue, messages };
  }

  /** A FIFO receive repeated with the same ReceiveRequestAttemptId gets the same messages while none was deleted or changed. */
  repeatAttempt(queue: Queue, attempt: string): Message[] | undefined {
    const seen = this.engine.attempts.get(`${queue.data.name}\n${attempt}`);
    if (!seen || seen.at + ATTEMPT_WINDOW_MS <= this.now()) return undefined;
    const messages = seen.ids.map((id) => queue.messages.get(id));
    if (messages.every((m, i) => m !== undefined && m.receipt === seen.receipts[i] && m.visibleAt > this.now())) return messages as Message[];
    return undefined;
  }

  /** Remembers, in the log (so across a restart or a failover), what a FIFO receive with an attempt id returned. */
  rememberAttempt(queue: Queue, attempt: string, messages: readonly Message[]): void {
    this.engine.commit({ t: 'attempt', q: queue.data.name, attempt, ids: messages.map((m) => m.data.id), receipts: messages.map((m) => m.receipt!), at: this.now() });
  }

  private take(name: string, max: number, visibilityMs: number): { queue: Queue; messages: Message[] } {
    const queue = this.engine.queues.get(name);
    if (!queue) throw new ServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
    return { queue, messages: this.engine.receive(queue, this.now(), max, visibilityMs, () => this.newReceipt()) };
  }

  /** Messages may be receivable in `name`: its waiters try, oldest first, while they get some. */
  wake(name: string): void {
    const set = this.waiters.get(name);
    if (!set || set.size === 0) return;
    // After the current operation has applied all its records (a batch send wakes once, with every message there).
    queueMicrotask(() => {
      for (const waiter of [...set]) if (!waiter.tryReceive()) break;
      this.armTimer(name);
    });
  }

  /** While `name` has waiters, a timer for the moment its next message becomes visible. */
  private armTimer(name: string): void {
    const set = this.waiters.get(name);
    const queue = this.engine.queues.get(name);
    const at = set && set.size > 0 && queue ? queue.nextVisibleAt(this.now()) : undefined;
    const current = this.timers.get(name);
    if (current && current.at === at) return;
    if (current) clearTimeout(current.timer);
    this.timers.delete(name);
    if (at === undefined) return;
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.wake(name);
    }, Math.max(0, at - this.now()) + 1);
    this.timers.set(name, { at, timer });
  }

  close(): void {
    this.closed = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    for (const set of this.waiters.values()) for (const w of [...set]) w.tryReceive();
    this.log.close();
  }
}
