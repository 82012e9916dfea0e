/**
 * Start spans: where the milliseconds of a task start go. The control plane (API accept, placement, store
 * commit, push to the agent) and the agent (payload received, image, rootfs, network, runc create, start,
 * report) each record spans of one task and log them at debug level as one line, `task start spans`,
 * with wall-clock times in milliseconds (sub-millisecond precision), so that the lines of both processes
 * of one host line up on one time axis. `bench/runtask-latency.mjs` reads those lines and prints where
 * the time went.
 */

/** Wall-clock milliseconds with sub-millisecond precision: comparable between processes on one host. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** One timed step: `name` began at `at` (epoch ms) and lasted `ms`. A point in time has `ms` 0. */
export interface Span {
  readonly name: string;
  readonly at: number;
  readonly ms: number;
}

/** What spans need of a logger (pino's satisfies it). */
export interface SpanLog {
  isLevelEnabled(level: 'debug'): boolean;
  debug(obj: object, msg: string): void;
}

/** The message every span line carries, for tools that pick them out of a log. */
export const SPANS_MESSAGE = 'task start spans';

/** The debug-level log line of a task's spans. Pure, so tests and the bench read the same shape. */
export function spansLine(task: string, spans: readonly Span[]): { task: string; spans: Span[] } {
  return { task, spans: spans.map((s) => ({ name: s.name, at: round3(s.at), ms: round3(s.ms) })) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Spans of many tasks, kept until a task's start is over (`flush`). Bounded: beyond `maxTasks` open tasks
 * the oldest is dropped unlogged, so a start that never ends (a task stopped before RUNNING, an agent
 * that lost its session) cannot grow it. Recording costs a clock read and an array push; when debug
 * logging is off no task is opened, so nothing is recorded at all.
 */
export class StartSpans {
  private readonly open = new Map<string, Span[]>();

  constructor(
    private readonly log: SpanLog,
    private readonly clock: () => number = epochNow,
    private readonly maxTasks = 1000,
    /** Told of each finished task start's spans (operators' metrics); recording is on whenever it is given. */
    private readonly observe?: (spans: readonly Span[]) => void,
  ) {}

  /** Whether spans are being recorded (debug logging is on, or someone observes them). */
  get enabled(): boolean {
    return this.observe !== undefined || this.log.isLevelEnabled('debug');
  }

  now(): number {
    return this.clock();
  }

  /**
   * Open `task`'s record with the instant `name` (RunTask arrived, the payload arrived). Only opened tasks
   * record spans, so the steps of a task that is not starting (stopping, cleaned up) record nothing.
   */
  begin(task: string, name: string, at = this.clock()): void {
    if (!this.enabled) return;
    if (this.open.size >= this.maxTasks) this.open.delete(this.open.keys().next().value!);
    this.open.set(task, [{ name, at, ms: 0 }]);
  }

  /** Record that `name` of `task` ran from `startedAt` until now. */
  end(task: string, name: string, startedAt: number): void {
    this.open.get(task)?.push({ name, at: startedAt, ms: this.clock() - startedAt });
  }

  /** Record a span of `task` already over: `name` from `at` to `endAt`. */
  add(task: string, name: string, at: number, endAt: number): void {
    this.open.get(task)?.push({ name, at, ms: endAt - at });
  }

  /** Record an instant of `task` (a frame was sent). */
  mark(task: string, name: string): void {
    this.open.get(task)?.push({ name, at: this.clock(), ms: 0 });
  }

  /** Whether `task`'s start is being recorded. */
  recording(task: string): boolean {
    return this.open.has(task);
  }

  /** Time `work` as span `name` of `task` (recorded whether it succeeds or fails). */
  async time<T>(task: string, name: string, work: () => Promise<T>): Promise<T> {
    if (!this.open.has(task)) return work();
    const startedAt = this.clock();
    try {
      return await work();
    } finally {
      this.end(task, name, startedAt);
    }
  }

  /** Log the spans of `task` recorded so far as one debug line and forget them. */
  flush(task: string): void {
    const spans = this.open.get(task);
    this.open.delete(task);
    if (!spans?.length) return;
    if (this.log.isLevelEnabled('debug')) this.log.debug(spansLine(task, spans), SPANS_MESSAGE);
    this.observe?.(spans);
  }

  /** Forget `task`'s spans without logging them (its start was abandoned). */
  drop(task: string): void {
    this.open.delete(task);
  }

  /** Tasks with unlogged spans. */
  get size(): number {
    return this.open.size;
  }
}
