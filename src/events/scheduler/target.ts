/**
 * A schedule's target (target-kinds.ts lists the kinds): the templated ECS RunTask target makes the same RunTask an
 * EventBridge rule's ECS target makes (../ecs-target.ts); the SQS and EventBridge templated targets and the universal
 * targets make the API call target-kinds.ts builds. Every call runs as the target's role assumed by
 * `scheduler.amazonaws.com` (server/events-runner.ts).
 */
import { createHash } from 'node:crypto';
import type { RunTaskRequest } from '@aws-sdk/client-ecs';
import { checkEcsTarget, runTaskRequestOf } from '../ecs-target.js';
import type { DeliveryRecord, EventTarget } from '../../state/records/events.js';
import type { ScheduleTarget } from '../../state/records/schedules.js';
import { ServiceError } from '../../model/errors.js';
import { validation } from './env.js';
import { parametersOf, TEMPLATED_PARAMETERS, targetCallOf, targetKindOf, type ScheduleTargetKind, type TargetCall } from './target-kinds.js';

/** The id a schedule's target has in a delivery record (a schedule has one target). */
const TARGET_ID = 'schedule-target';
/** Context attribute values to check an Input's JSON with before a real attempt fills them. */
const SAMPLE_CONTEXT = { scheduleArn: 'arn', scheduledTime: '2026-01-01T00:00:00Z', executionId: 'id', attemptNumber: 1 };

export function checkScheduleTarget(target: ScheduleTarget): void {
  const kind = targetKindOf(target.Arn);
  if ('refused' in kind) throw validation(kind.refused);
  const own = parametersOf(kind);
  for (const member of TEMPLATED_PARAMETERS) {
    if (target[member] !== undefined && member !== own?.member) throw validation(`Target.${member} cannot be used with the target ${target.Arn}.`);
  }
  if (own?.required && target[own.member] === undefined) throw validation(`Target.${own.member} is required for the target ${target.Arn}.`);
  const dlq = (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
  if (target.DeadLetterConfig !== undefined && (typeof dlq !== 'string' || !/^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_-]+$/.test(dlq))) {
    throw validation(`Invalid Target.DeadLetterConfig.Arn ${String(dlq)}: the ARN of a standard SQS queue (arn:aws:sqs:<region>:<account>:<name>).`);
  }
  checkInputOf(kind, target);
  if (kind.kind !== 'ecs') return;
  try {
    checkEcsTarget(eventTargetOf(target));
  } catch (error) {
    if (error instanceof ServiceError) throw validation(error.message.replace(`target ${TARGET_ID}`, 'Target').replace(`Target ${TARGET_ID}`, 'Target.EcsParameters'));
    throw error;
  }
}

/** EventBridge targets take a JSON Input (the event's detail, an object); universal targets the request's JSON object. */
function checkInputOf(kind: ScheduleTargetKind, target: ScheduleTarget): void {
  if ((kind.kind !== 'eventbridge' && kind.kind !== 'universal') || typeof target.Input !== 'string') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(inputWithContext(target.Input, SAMPLE_CONTEXT));
  } catch {
    throw validation(`Target.Input must be well-formed JSON for the target ${target.Arn}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw validation(`Target.Input must be a JSON object for the target ${target.Arn}${kind.kind === 'universal' ? ' (the request of the API action it names)' : ' (the event detail)'}.`);
  }
}

/**
 * The target as the dispatcher's ECS delivery reads it (an EventBridge target's shape): Scheduler's EcsParameters.Tags
 * are a list of maps (`[{"team": "data"}]`), EventBridge's a list of {Key, Value}.
 */
export function eventTargetOf(target: ScheduleTarget): EventTarget {
  const ecs = target.EcsParameters as (Record<string, unknown> & { Tags?: Record<string, string>[] }) | undefined;
  const tags = ecs?.Tags?.flatMap((map) => Object.entries(map).map(([Key, Value]) => ({ Key, Value })));
  return {
    Id: TARGET_ID,
    Arn: target.Arn,
    RoleArn: target.RoleArn,
    ...(ecs ? { EcsParameters: { ...ecs, ...(tags ? { Tags: tags } : {}) } } : {}),
    ...(target.SqsParameters !== undefined ? { SqsParameters: target.SqsParameters } : {}),
    ...(target.EventBridgeParameters !== undefined ? { EventBridgeParameters: target.EventBridgeParameters } : {}),
    ...(target.Input !== undefined ? { Input: target.Input } : {}),
    ...(target.RetryPolicy !== undefined ? { RetryPolicy: target.RetryPolicy } : {}),
    ...(target.DeadLetterConfig !== undefined ? { DeadLetterConfig: target.DeadLetterConfig } : {}),
  };
}

/**
 * The target's Input with the Scheduler's context attributes replaced (User Guide, "Adding context attributes"):
 * `<aws.scheduler.schedule-arn>`, `<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>`,
 * `<aws.scheduler.attempt-number>`.
 */
export function inputWithContext(input: string, context: { scheduleArn: string; scheduledTime: string; executionId: string; attemptNumber: number }): string {
  const values: Record<string, string> = {
    'schedule-arn': context.scheduleArn,
    'scheduled-time': context.scheduledTime,
    'execution-id': context.executionId,
    'attempt-number': String(context.attemptNumber),
  };
  return input.replace(/<aws\.scheduler\.([a-z-]+)>/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * The RunTask of one attempt at a schedule's delivery: started by `scheduler/<schedule name>`, its overrides the
 * target's Input (with the context attributes of this attempt), as an EventBridge rule's ECS target reads its input.
 */
export function scheduleRunTaskRequest(d: DeliveryRecord, clientToken: string): RunTaskRequest {
  return runTaskRequestOf(d.target, `scheduler/${d.rule}`, attemptInput(d), clientToken);
}

/** Whether a delivery's target is the templated ECS one (RunTask, counted failed when it starts no task). */
export function isEcsScheduleTarget(d: DeliveryRecord): boolean {
  const kind = targetKindOf(d.target.Arn);
  return !('refused' in kind) && kind.kind === 'ecs';
}

/** The API call of one attempt at a schedule's delivery to a target that is not the templated ECS one. */
export function scheduleTargetCall(d: DeliveryRecord, clientToken: string): TargetCall {
  return targetCallOf(d.target, attemptInput(d), d.ruleArn, clientToken);
}

/**
 * The body of the dead-letter message of a delivery whose retries are exhausted: the target's input of its last
 * attempt, as the Scheduler sends it (User Guide, "Configuring a dead-letter queue"); `{}` when the target has none,
 * SQS taking no empty body.
 */
export function scheduleDeadLetterBody(d: DeliveryRecord): string {
  return attemptInput(d) || '{}';
}

/** The target's Input with the context attributes of attempt `d.attempts + 1`, or '' without an Input. */
function attemptInput(d: DeliveryRecord): string {
  if (typeof d.target.Input !== 'string') return '';
  const attemptNumber = d.attempts + 1;
  const executionId = createHash('sha256').update(`${d.id}\n${attemptNumber}`).digest('hex').slice(0, 16);
  return inputWithContext(d.target.Input, { scheduleArn: d.ruleArn, scheduledTime: d.event.time, executionId, attemptNumber });
}
