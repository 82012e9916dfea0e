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
 *        deliver: RunTask with clientToken eb-<id>-<attempt> (a schedule's other targets: their API call,
 *                 scheduler/target-kinds.ts) ──► ok ──► delivery deleted
 *                                                           └─► failed ──► attempts+1, backoff; past
 *                                                               MaximumRetryAttempts or MaximumEventAgeInSeconds: to the target's
 *                                                               DeadLetterConfig queue when it has one, else dropped (logged)
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
import { parseDeliveryRecord, parseEventRuleRecord, parseQueuedBatchRecord, type DeliveryRecord, type EventEnvelope, type EventRuleRecord, type QueuedBatchRecord } from '../state/records/events.js';
import { addDeliveries } from './deliveries.js';
import { runTaskRequestOf } from './ecs-target.js';
import { matchesPattern } from './pattern/match.js';
import { parsePattern, type Node } from './pattern/pattern.js';
import { fireDueSchedules } from './rule-schedule.js';
import { fireDueScheduleSlots } from './scheduler/firing.js';
import { finishGroupDeletions } from './scheduler/groups.js';
import { isEcsScheduleTarget, scheduleDeadLetterBody, scheduleRunTaskRequest, scheduleTargetCall } from './scheduler/target.js';
import { failureInAnswer, type TargetCall } from './scheduler/target-kinds.js';
import { targetInput, type TargetInputSpec } from './target-input.js';

/**
 * Puts an undelivered event into a target's dead-letter queue (an SQS queue ARN): the event as the body and
 * EventBridge's message attributes (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
 * RETRY_ATTEMPTS). Resolves once the message is durable; rejects when the queue does not exist.
 */
export type DeadLetterSender = (queueArn: string, body: string, attributes: Readonly<Record<string, string>>) => Promise<void>;

/** Who assumes a target's role: EventBridge for a rule's target, EventBridge Scheduler for a schedule's. */
export type TargetInvoker = 'events.amazonaws.com' | 'scheduler.amazonaws.com';

/** RunTask as the leader calls it for a rule's (or schedule's) target, as its role (`roleArn`) when it has one. */
export type RunTaskForRule = (
  request: RunTaskRequest,
  roleArn: string | undefined,
  invoker?: TargetInvoker,
) => Promise<{ tasks?: unknown[]; failures?: { arn?: string; reason?: string }[] }>;

/**
 * Any other API call a schedule's target makes (SQS SendMessage, EventBridge PutEvents, universal targets), as its
 * role assumed by `invoker`; resolves with the operation's answer, rejects with its error.
 */
export type TargetCaller = (call: TargetCall, roleArn: string | undefined, invoker: TargetInvoker) => Promise<Readonly<Record<string, unknown>>>;

export interface DispatcherOptions {
  readonly store: Store;
  readonly scope: ArnScope;
  readonly now: () => number;
  readonly log: Logger;
  readonly runTask: RunTaskForRule;
  /** Schedules' targets other than ECS clusters (absent: their attempts fail). */
  readonly callApi?: TargetCaller;
  /** Where targets with a DeadLetterConfig send what they could not deliver (absent: such events are dropped, logged). */
  readonly deadLetter?: DeadLetterSender;
  /** Between passes (default 500 ms). */
  readonly intervalMs?: number;
  /** The first retry's delay (default 1 s), doubled per attempt up to `maxBackoffMs` (default 60 s). */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Deliveries one routing commit writes (etcd's default limit is 128 operations a transaction). */
const MAX_DELIVERIES_PER_COMMIT = 50;
/** Writes (deliveries and batch deletions) one routing commit of whole batches makes, within etcd's 128. */
const MAX_OPS_PER_COMMIT = 100;

type Routed = { rule: EventRuleRecord; event: EventEnvelope };
/** A queued batch as read (key, revision), and each of its events' matching rules. */
interface RoutedBatch {
  readonly key: string;
  readonly revision: number;
  readonly batch: QueuedBatchRecord;
  readonly routed: readonly (readonly Routed[])[];
}
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
   * Routes every queued batch (oldest first) to the deliveries its buses' rules make of it. Whole batches are routed
   * together, up to MAX_OPS_PER_COMMIT writes a commit (most batches are one ECS event no rule matches: a commit
   * each would make the leader's commits per task change double). A batch owing more than MAX_DELIVERIES_PER_COMMIT
   * is routed alone in several commits, rewritten with the events left (or deleted) in each, so a routed event is
   * never routed again and a commit stays within the store's operations per transaction.
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
    let group: RoutedBatch[] = [];
    let groupOps = 0;
    for await (const page of rangePages(this.options.store, eventsKeys.queue(), 100)) {
      for (const entry of page) {
        const batch = parseQueuedBatchRecord(entry.value, entry.key);
        const routed: Routed[][] = [];
        for (const { bus, event } of batch.events) {
          const rules = await rulesOf(bus);
          routed.push(rules.filter((r) => r.state === 'ENABLED' && r.eventPattern !== undefined && r.targets.length > 0 && this.matches(r, event)).map((rule) => ({ rule, event })));
        }
        const owed = routed.reduce((n, r) => n + countTargets(r), 0);
        if (owed > MAX_DELIVERIES_PER_COMMIT) {
          await this.routeLarge({ key: entry.key, revision: entry.modRevision, batch, routed });
          continue;
        }
        if (groupOps + owed + 1 > MAX_OPS_PER_COMMIT) {
          await this.routeGroup(group);
          group = [];
          groupOps = 0;
        }
        group.push({ key: entry.key, revision: entry.modRevision, batch, routed });
        groupOps += owed + 1;
      }
    }
    await this.routeGroup(group);
  }

  /** Writes whole batches' deliveries and deletes the batches, in one commit. */
  private async routeGroup(group: readonly RoutedBatch[]): Promise<void> {
    if (group.length === 0) return;
    await transact(this.options.store, async (tx) => {
      for (const { key, revision, batch, routed } of group) {
        // Another leader's pass (a term that just ended) may have routed it meanwhile.
        if ((await tx.get(key))?.modRevision !== revision) continue;
        for (const matched of routed) for (const { rule, event } of matched) addDeliveries(tx, rule, event, batch.enqueuedAt);
        tx.delete(key);
      }
    });
  }

  /** Routes one batch owing more deliveries than a commit holds, in several commits. */
  private async routeLarge({ key, revision: first, batch, routed }: RoutedBatch): Promise<void> {
    let done = 0;
    let revision = first;
    while (done < batch.events.length) {
      let upTo = done;
      let deliveries = 0;
      while (upTo < batch.events.length && (upTo === done || deliveries + countTargets(routed[upTo]!) <= MAX_DELIVERIES_PER_COMMIT)) deliveries += countTargets(routed[upTo++]!);
      const from = done;
      const committed = await transact(this.options.store, async (tx) => {
        if ((await tx.get(key))?.modRevision !== revision) return false;
        for (const matched of routed.slice(from, upTo)) for (const { rule, event } of matched) addDeliveries(tx, rule, event, batch.enqueuedAt);
        if (upTo < batch.events.length) tx.putJson(key, { ...batch, events: batch.events.slice(upTo) });
        else tx.delete(key);
        return true;
      });
      if (!committed) return;
      done = upTo;
      if (done < batch.events.length) revision = (await this.options.store.get(key))?.modRevision ?? 0;
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

  /**
   * Makes every delivery that is due, a group at a time; a group's outcomes are written in one commit (each store
   * commit is an fsync, and one per delivery made the commits, not the targets, the limit on events per second).
   */
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
    for (let i = 0; i < due.length; i += DELIVERIES_IN_FLIGHT) {
      const group = due.slice(i, i + DELIVERIES_IN_FLIGHT);
      await this.record(await Promise.all(group.map(async (d) => ({ d, ...(await this.attempt(d)) }))));
    }
  }

  /** Delivers `d` once; says why it failed (an error code and message), or nothing when the target took it. */
  private async attempt(d: DeliveryRecord): Promise<{ error?: string; code?: string }> {
    try {
      const clientToken = `eb-${d.id}-${d.attempts}`;
      if (d.source === 'scheduler' && !isEcsScheduleTarget(d)) return await this.callTarget(d, clientToken);
      const { request, invoker } =
        d.source === 'scheduler'
          ? { request: scheduleRunTaskRequest(d, clientToken), invoker: 'scheduler.amazonaws.com' as const }
          : {
              request: runTaskRequestOf(d.target, `events-rule/${d.rule}`, targetInput(d.target as TargetInputSpec, d.event, { ruleArn: d.ruleArn, ruleName: d.rule, ingestionTime: new Date(d.eventAt).toISOString() }), clientToken),
              invoker: 'events.amazonaws.com' as const,
            };
      const answer = await this.options.runTask(request, d.roleArn, invoker);
      if ((answer.tasks ?? []).length === 0) {
        return { code: 'RunTaskFailures', error: `RunTask started no task: ${(answer.failures ?? []).map((f) => f.reason ?? 'unknown').join(', ') || 'no reason given'}` };
      }
      return {};
    } catch (err) {
      const code = err instanceof Error ? (err.name === 'ServiceError' ? ((err as Error & { type?: string }).type ?? err.name) : err.name) : 'Error';
      return { code, error: err instanceof Error ? `${code}: ${err.message}` : String(err) };
    }
  }

  /** One attempt at a schedule's non-ECS target: the API call, failed when it throws or its answer reports a refusal. */
  private async callTarget(d: DeliveryRecord, clientToken: string): Promise<{ error?: string; code?: string }> {
    if (!this.options.callApi) return { code: 'InternalError', error: `this server cannot call the target ${d.target.Arn}` };
    const call = scheduleTargetCall(d, clientToken);
    const answer = await this.options.callApi(call, d.roleArn, 'scheduler.amazonaws.com');
    return failureInAnswer(call, answer) ?? {};
  }

  /**
   * Writes attempts' outcomes in one commit: a delivered or exhausted delivery is deleted, a failed one waits its
   * backoff. A delivery another leader's pass changed meanwhile (its attempts moved on) is left to that pass. An
   * exhausted delivery whose target has a DeadLetterConfig goes to that queue first: a leader dying between the two
   * sends it again (at least once, as SQS is).
   */
  private async record(outcomes: readonly { d: DeliveryRecord; error?: string; code?: string }[]): Promise<void> {
    const log = this.options.log;
    const now = this.options.now();
    const failed = outcomes.flatMap(({ d, error, code }) => (error === undefined ? [] : [{ d, error, code, exhausted: this.exhausted(d, now) }]));
    const deadLetter = this.options.deadLetter;
    const lettered = new Set<string>();
    if (deadLetter) {
      await Promise.all(
        failed.map(async ({ d, error, code, exhausted }) => {
          const dlq = (d.target.DeadLetterConfig as { Arn?: string } | undefined)?.Arn;
          if (!exhausted || !dlq) return;
          lettered.add(d.id);
          const failure = { ERROR_CODE: code ?? 'Error', ERROR_MESSAGE: error, EXHAUSTED_RETRY_CONDITION: exhausted, RETRY_ATTEMPTS: String(d.attempts) };
          // A rule's dead-letter message is the event; a schedule's is the target's input of the last attempt.
          const letter =
            d.source === 'scheduler'
              ? { body: scheduleDeadLetterBody(d), attributes: { SCHEDULE_ARN: d.ruleArn, TARGET_ARN: d.target.Arn, ...failure } }
              : { body: JSON.stringify(d.event), attributes: { RULE_ARN: d.ruleArn, TARGET_ARN: d.target.Arn, ...failure } };
          await deadLetter(dlq, letter.body, letter.attributes).then(
            () => log.warn({ rule: d.ruleArn, target: d.target.Id, event: d.event.id, queue: dlq }, 'event sent to the target dead-letter queue'),
            (err: unknown) => log.warn({ rule: d.ruleArn, target: d.target.Id, event: d.event.id, queue: dlq, err }, 'event dropped: its dead-letter queue refused it'),
          );
        }),
      );
    }
    const exhaustedIds = new Set(failed.filter((f) => f.exhausted).map((f) => f.d.id));
    const written = new Set<string>();
    await transact(this.options.store, async (tx) => {
      written.clear();
      for (const { d, error } of outcomes) {
        const current = await tx.getRecord(parseDeliveryRecord, eventsKeys.delivery(d.id));
        if (!current || current.attempts !== d.attempts) continue;
        written.add(d.id);
        if (error === undefined || exhaustedIds.has(d.id)) tx.delete(eventsKeys.delivery(d.id));
        else tx.putJson(eventsKeys.delivery(d.id), { ...d, attempts: d.attempts + 1, nextAttemptAt: now + this.backoff(d), lastError: error });
      }
    });
    for (const { d, error, exhausted } of failed) {
      log.info({ rule: d.ruleArn, target: d.target.Id, event: d.event.id, error }, 'event delivery failed');
      if (exhausted && written.has(d.id) && !lettered.has(d.id)) {
        log.warn({ rule: d.ruleArn, target: d.target.Id, event: d.event.id, attempts: d.attempts + 1, error }, 'event dropped: the target retry policy is exhausted');
      }
    }
  }

  private backoff(d: DeliveryRecord): number {
    return Math.min((this.options.baseBackoffMs ?? 1000) * 2 ** d.attempts, this.options.maxBackoffMs ?? 60_000);
  }

  /** After a failed attempt: which limit of the target's RetryPolicy ends the retries, if one does. */
  private exhausted(d: DeliveryRecord, now: number): 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | undefined {
    const policy = (d.target.RetryPolicy ?? {}) as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
    if (d.attempts + 1 > (policy.MaximumRetryAttempts ?? DEFAULT_MAX_RETRIES)) return 'MaximumRetryAttempts';
    if (now + this.backoff(d) - d.eventAt > (policy.MaximumEventAgeInSeconds ?? DEFAULT_MAX_AGE_S) * 1000) return 'MaximumEventAgeInSeconds';
    return undefined;
  }
}

/** Starts the leader's passes; `stop()` waits for the one in flight. */
export function startEventDispatcher(options: DispatcherOptions): { stop(): Promise<void>; dispatcher: EventDispatcher } {
  const dispatcher = new EventDispatcher(options);
  const periodic = startPeriodic({ log: options.log, what: 'EventBridge dispatch pass', intervalMs: options.intervalMs ?? 500, run: () => dispatcher.pass() });
  return { stop: () => periodic.stop(), dispatcher };
}
