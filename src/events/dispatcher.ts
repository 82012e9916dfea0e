/**
 * The leader's EventBridge worker: routes queued events to the rules they match, fires scheduled rules and
 * EventBridge Scheduler's schedules (as the role assumed by scheduler.amazonaws.com), and
 * delivers to targets with their retry policy. Everything it owes is in the store, so a kill -9 loses nothing:
 *
 *   PutEvents / an ECS state change ──► events/queue/<time>-<id>
 *        route: match the bus's enabled rules ──► one txn: deliveries written, queue entry deleted
 *   rule schedule due (rule-schedule.ts) ──► one txn: deliveries written, next slot claimed
 *   Scheduler schedule due (scheduler/firing.ts) ──► one txn: delivery written, next slot claimed (or schedule deleted)
 *   events/deliveries/<id> (attempts, nextAttemptAt)
 *        deliver: RunTask with clientToken eb-<id>-<attempt> ──► ok ──► delivery deleted
 *                                                           └─► failed ──► attempts+1, backoff; past
 *                                                               MaximumRetryAttempts or MaximumEventAgeInSeconds: dropped (logged)
 *
 * A leader that dies after RunTask but before deleting the delivery retries with the same client token, and
 * RunTask answers with the tasks it already started: a delivery launches its tasks once.
 */
import type { RunTaskRequest } from '@aws-sdk/client-ecs';
import type { Logger } from 'pino';
import { startPeriodic } from '../process/periodic.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import type { Store } from '../store/store.js';
import type { ArnScope } from '../model/arn.js';
import { eventsKeys } from '../state/events-keys.js';
import { parseDeliveryRecord, parseEventRuleRecord, parseQueuedBatchRecord, type DeliveryRecord, type EventEnvelope, type EventRuleRecord } from '../state/records/events.js';
import { addDeliveries } from './deliveries.js';
import { runTaskRequestOf } from './ecs-target.js';
import { matchesPattern } from './pattern/match.js';
import { parsePattern, type Node } from './pattern/pattern.js';
import { fireDueSchedules } from './rule-schedule.js';
import { fireDueScheduleSlots } from './scheduler/firing.js';
import { finishGroupDeletions } from './scheduler/groups.js';
import { scheduleRunTaskRequest } from './scheduler/target.js';
import { targetInput, type TargetInputSpec } from './target-input.js';

/** Who assumes a target's role: EventBridge for a rule's target, EventBridge Scheduler for a schedule's. */
export type TargetInvoker = 'events.amazonaws.com' | 'scheduler.amazonaws.com';

/** RunTask as the leader calls it for a rule's (or schedule's) target, as its role (`roleArn`) when it has one. */
export type RunTaskForRule = (
  request: RunTaskRequest,
  roleArn: string | undefined,
  invoker?: TargetInvoker,
) => Promise<{ tasks?: unknown[]; failures?: { arn?: string; reason?: string }[] }>;

export interface DispatcherOptions {
  readonly store: Store;
  readonly scope: ArnScope;
  readonly now: () => number;
  readonly log: Logger;
  readonly runTask: RunTaskForRule;
  /** Between passes (default 500 ms). */
  readonly intervalMs?: number;
  /** The first retry's delay (default 1 s), doubled per attempt up to `maxBackoffMs` (default 60 s). */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Deliveries one routing commit writes (etcd's default limit is 128 operations a transaction). */
const MAX_DELIVERIES_PER_COMMIT = 50;
const countTargets = (matched: readonly { rule: EventRuleRecord }[]) => matched.reduce((n, m) => n + m.rule.targets.length, 0);

/** Deliveries attempted at once by a pass. */
const DELIVERIES_IN_FLIGHT = 16;

/** EventBridge's default retry policy: 185 retries, for 24 hours. */
const DEFAULT_MAX_RETRIES = 185;
const DEFAULT_MAX_AGE_S = 86_400;

export class EventDispatcher {
  private readonly patterns = new Map<string, { text: string; node: Node }>();

  constructor(private readonly options: DispatcherOptions) {}

  /** One pass: route the queue, fire due rule schedules and Scheduler schedules, make due deliveries. */
  async pass(): Promise<void> {
    await this.route();
    await fireDueSchedules(this.options.store, this.options.scope, this.options.now());
    await finishGroupDeletions(this.options.store);
    await fireDueScheduleSlots(this.options.store, this.options.now(), this.options.log);
    await this.deliver();
  }

  /**
   * Routes every queued batch (oldest first) to the deliveries its buses' rules make of it: at most
   * MAX_DELIVERIES_PER_COMMIT deliveries a commit, the batch rewritten with the events left (or deleted) in the same
   * commit, so a routed event is never routed again and a commit stays within the store's operations per transaction.
   */
  async route(): Promise<void> {
    const rulesByBus = new Map<string, EventRuleRecord[]>();
    const rulesOf = async (bus: string) => {
      let rules = rulesByBus.get(bus);
      if (!rules) {
        rules = [];
        for await (const rp of rangePages(this.options.store, eventsKeys.rulesOf(bus), 500)) rules.push(...rp.map((e) => parseEventRuleRecord(e.value, e.key)));
        rulesByBus.set(bus, rules);
      }
      return rules;
    };
    for await (const page of rangePages(this.options.store, eventsKeys.queue(), 100)) {
      for (const entry of page) {
        const batch = parseQueuedBatchRecord(entry.value, entry.key);
        const routed: { rule: EventRuleRecord; event: EventEnvelope }[][] = [];
        for (const { bus, event } of batch.events) {
          const rules = await rulesOf(bus);
          routed.push(rules.filter((r) => r.state === 'ENABLED' && r.eventPattern !== undefined && r.targets.length > 0 && this.matches(r, event)).map((rule) => ({ rule, event })));
        }
        let done = 0;
        let revision = entry.modRevision;
        while (done < batch.events.length) {
          let upTo = done;
          let deliveries = 0;
          while (upTo < batch.events.length && (upTo === done || deliveries + countTargets(routed[upTo]!) <= MAX_DELIVERIES_PER_COMMIT)) deliveries += countTargets(routed[upTo++]!);
          const from = done;
          const committed = await transact(this.options.store, async (tx) => {
            // Another leader's pass (a term that just ended) may have routed it meanwhile.
            if ((await tx.get(entry.key))?.modRevision !== revision) return false;
            for (const matched of routed.slice(from, upTo)) for (const { rule, event } of matched) addDeliveries(tx, rule, event, batch.enqueuedAt);
            if (upTo < batch.events.length) tx.putJson(entry.key, { ...batch, events: batch.events.slice(upTo) });
            else tx.delete(entry.key);
            return true;
          });
          if (!committed) break;
          done = upTo;
          if (done < batch.events.length) revision = (await this.options.store.get(entry.key))?.modRevision ?? 0;
        }
      }
    }
  }

  private matches(rule: EventRuleRecord, event: EventEnvelope): boolean {
    const key = `${rule.bus}/${rule.name}`;
    let cached = this.patterns.get(key);
    if (!cached || cached.text !== rule.eventPattern) {
      try {
        cached = { text: rule.eventPattern!, node: parsePattern(rule.eventPattern!) };
      } catch (err) {
        this.options.log.warn({ err, rule: rule.arn }, 'stored event pattern no longer parses; rule skipped');
        return false;
      }
      this.patterns.set(key, cached);
    }
    return matchesPattern(cached.node, event);
  }

  /** Makes every delivery that is due. */
  async deliver(): Promise<void> {
    const now = this.options.now();
    const due: DeliveryRecord[] = [];
    for await (const page of rangePages(this.options.store, eventsKeys.deliveries(), 200)) {
      for (const e of page) {
        const d = parseDeliveryRecord(e.value, e.key);
        if (d.nextAttemptAt <= now) due.push(d);
      }
    }
    // A few at a time: a backlog (a burst of events, a target failing for a while) must not become a burst of RunTasks.
    for (let i = 0; i < due.length; i += DELIVERIES_IN_FLIGHT) await Promise.all(due.slice(i, i + DELIVERIES_IN_FLIGHT).map((d) => this.attempt(d)));
  }

  private async attempt(d: DeliveryRecord): Promise<void> {
    const log = this.options.log;
    let error: string | undefined;
    try {
      const clientToken = `eb-${d.id}-${d.attempts}`;
      const { request, invoker } =
        d.source === 'scheduler'
          ? { request: scheduleRunTaskRequest(d, clientToken), invoker: 'scheduler.amazonaws.com' as const }
          : {
              request: runTaskRequestOf(d.target, `events-rule/${d.rule}`, targetInput(d.target as TargetInputSpec, d.event, { ruleArn: d.ruleArn, ruleName: d.rule, ingestionTime: new Date(d.eventAt).toISOString() }), clientToken),
              invoker: 'events.amazonaws.com' as const,
            };
      const answer = await this.options.runTask(request, d.roleArn, invoker);
      if ((answer.tasks ?? []).length === 0) error = `RunTask started no task: ${(answer.failures ?? []).map((f) => f.reason ?? 'unknown').join(', ') || 'no reason given'}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name === 'ServiceError' ? ((err as Error & { type?: string }).type ?? err.name) : err.name}: ${err.message}` : String(err);
    }
    const now = this.options.now();
    await transact(this.options.store, async (tx) => {
      const current = await tx.getRecord(parseDeliveryRecord, eventsKeys.delivery(d.id));
      if (!current || current.attempts !== d.attempts) return;
      if (error === undefined) {
        tx.delete(eventsKeys.delivery(d.id));
        return;
      }
      const policy = (d.target.RetryPolicy ?? {}) as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
      const attempts = d.attempts + 1;
      const retries = policy.MaximumRetryAttempts ?? DEFAULT_MAX_RETRIES;
      const maxAgeMs = (policy.MaximumEventAgeInSeconds ?? DEFAULT_MAX_AGE_S) * 1000;
      const backoff = Math.min((this.options.baseBackoffMs ?? 1000) * 2 ** d.attempts, this.options.maxBackoffMs ?? 60_000);
      if (attempts > retries || now + backoff - d.eventAt > maxAgeMs) {
        // berth serves no SQS yet: a dead-letter queue is recorded on the target and named here, not sent to.
        const deadLetter = (d.target.DeadLetterConfig as { Arn?: string } | undefined)?.Arn;
        log.warn({ rule: d.ruleArn, target: d.target.Id, event: d.event.id, attempts, error, ...(deadLetter ? { deadLetterQueue: deadLetter } : {}) }, 'event dropped: the target retry policy is exhausted');
        tx.delete(eventsKeys.delivery(d.id));
        return;
      }
      tx.putJson(eventsKeys.delivery(d.id), { ...d, attempts, nextAttemptAt: now + backoff, lastError: error });
    });
    if (error !== undefined) log.info({ rule: d.ruleArn, target: d.target.Id, event: d.event.id, error }, 'event delivery failed');
  }
}

/** Starts the leader's passes; `stop()` waits for the one in flight. */
export function startEventDispatcher(options: DispatcherOptions): { stop(): Promise<void>; dispatcher: EventDispatcher } {
  const dispatcher = new EventDispatcher(options);
  const periodic = startPeriodic({ log: options.log, what: 'EventBridge dispatch pass', intervalMs: options.intervalMs ?? 500, run: () => dispatcher.pass() });
  return { stop: () => periodic.stop(), dispatcher };
}
