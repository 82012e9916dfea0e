import { access } from 'node:fs/promises';
import type { LogsApi } from './aws-json/services.js';
import type { Logger } from 'pino';
import { logDestination } from '../model/log-naming.js';
import { QueueBudget } from './log-shipper-budget.js';
import { ShippedStateFiles, type ShippedState } from './log-shipper-state.js';
import { ContainerTail } from './log-shipper-tail.js';
import type { LogSink, LogSource } from './task-engine/deps.js';

export interface LogShipperOptions {
  /**
   * A client for the control plane's CloudWatch Logs API (the agent's endpoint and credentials), or a
   * function that makes it on first use (the agent's: its SDK package is loaded only when needed).
   */
  readonly client: LogsApi | (() => Promise<LogsApi>);
  /**
   * The client for one task's awslogs streams when it is not the agent's: the task execution role's when the
   * task has one (ecs.capability.execution-role-awslogs). Asked before every call, so renewed credentials are
   * used as soon as they arrive; none: the agent's client.
   */
  readonly clientFor?: (taskArn: string) => Promise<LogsApi | undefined>;
  /** Where the per-container shipping state lives (under the agent's data directory). */
  readonly stateDir: string;
  readonly log: Logger;
  /** How often each container's log is read and the events gathered since are sent (default 1 s). */
  readonly flushMs?: number;
  /**
   * How long finish() keeps retrying when the control plane does not answer (default 5 min: a task that stopped
   * while the control plane restarted or failed over keeps its last lines; 15 s lost them to a slow restart).
   */
  readonly finishTimeoutMs?: number;
  /** Characters read ahead and not yet shipped, over all containers (default 16 Mi; each container also stops at 8 Mi). */
  readonly maxQueuedChars?: number;
  readonly now?: () => number;
}

/**
 * The agent's log shipper: tails each container's CRI-format log file and sends its lines to the control
 * plane with PutLogEvents, under awslogs names (model/log-naming.ts). One ContainerTail per container.
 *
 * Delivery is exactly once except at one crash boundary: the shipping state is saved after the control
 * plane acknowledged a batch, so a crash between the acknowledgement and the save sends that batch again
 * after the restart (at least once). Nothing acknowledged is lost, nothing is skipped.
 */
export class LogShipper implements LogSink {
  private readonly tails = new Map<string, ContainerTail>();
  private readonly states: ShippedStateFiles;
  private stopped = false;
  private readonly client: () => Promise<LogsApi>;
  private readonly budget: QueueBudget;

  constructor(private readonly options: LogShipperOptions) {
    this.states = new ShippedStateFiles(options.stateDir);
    const client = options.client;
    this.client = typeof client === 'function' ? client : () => Promise.resolve(client);
    this.budget = new QueueBudget(options.maxQueuedChars ?? 16 * 1024 * 1024);
  }

  /**
   * Carry on with the containers followed before a restart, from where each left off (their logs may
   * have grown while the agent was away). State whose log file is gone is dropped.
   */
  async resume(): Promise<void> {
    for (const state of await this.states.all()) {
      if (this.stopped || this.tails.has(state.source.runtimeId)) continue;
      if (await access(state.source.logPath).then(() => true, () => false)) this.start(state.source, state);
      else await this.states.remove(state.source.runtimeId);
    }
  }

  follow(source: LogSource): void {
    if (this.stopped || this.tails.has(source.runtimeId)) return;
    this.start(source, undefined);
  }

  async finish(runtimeId: string): Promise<void> {
    let tail = this.tails.get(runtimeId);
    if (!tail) {
      const saved = await this.states.load(runtimeId);
      if (!saved) return;
      tail = this.start(saved.source, saved);
    }
    if (!tail) {
      await this.states.remove(runtimeId);
      return;
    }
    try {
      await tail.finish();
    } finally {
      this.tails.delete(runtimeId);
    }
  }

  /** Stop following (agent shutdown). What was not shipped yet is shipped by the next agent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.tails.values()].map((t) => t.stop()));
    this.tails.clear();
  }

  /** Containers currently followed (for tests and diagnostics). */
  following(): string[] {
    return [...this.tails.keys()];
  }

  private start(source: LogSource, saved: ShippedState | undefined): ContainerTail | undefined {
    const destination = logDestination(source);
    if (!destination) return undefined; // logDriver none: nothing is kept
    const tail = new ContainerTail({
      source,
      destination,
      saved,
      // The execution role is for the awslogs driver only (as in ECS); berth's default group, its stand-in for
      // a log kept on the host, is the agent's own doing and shipped with its credentials.
      client: destination.awslogs ? async () => (await this.options.clientFor?.(source.taskArn)) ?? (await this.client()) : this.client,
      states: this.states,
      budget: this.budget,
      log: this.options.log.child({ container: source.containerName, task: source.taskArn }),
      flushMs: this.options.flushMs ?? 1_000,
      finishTimeoutMs: this.options.finishTimeoutMs ?? 300_000,
      now: this.options.now ?? Date.now,
    });
    this.tails.set(source.runtimeId, tail);
    return tail;
  }
}
