/**
 * A schedule's target: berth runs the templated ECS RunTask target (Arn an ECS cluster, EcsParameters), the same
 * RunTask an EventBridge rule's ECS target makes (../ecs-target.ts), as the target's role assumed by
 * `scheduler.amazonaws.com`. Other templated and universal targets are refused, naming the field.
 */
import { createHash } from 'node:crypto';
import type { RunTaskRequest } from '@aws-sdk/client-ecs';
import { checkEcsTarget, isEcsClusterArn, runTaskRequestOf } from '../ecs-target.js';
import type { DeliveryRecord, EventTarget } from '../../state/records/events.js';
import type { ScheduleTarget } from '../../state/records/schedules.js';
import { ServiceError } from '../../model/errors.js';
import { validation } from './env.js';

const OTHER_TARGET_PARAMETERS = ['EventBridgeParameters', 'KinesisParameters', 'SageMakerPipelineParameters', 'SqsParameters'] as const;
/** The id a schedule's target has in a delivery record (a schedule has one target). */
const TARGET_ID = 'schedule-target';

export function checkScheduleTarget(target: ScheduleTarget): void {
  if (!isEcsClusterArn(target.Arn)) {
    throw validation(`Invalid Target.Arn ${target.Arn}: berth's EventBridge Scheduler runs ECS tasks only (an arn:aws:ecs:<region>:<account>:cluster/<name>).`);
  }
  for (const member of OTHER_TARGET_PARAMETERS) {
    if (target[member] !== undefined) throw validation(`Target.${member} cannot be used with an ECS cluster target (Target.Arn ${target.Arn}).`);
  }
  if (target.EcsParameters === undefined) throw validation(`Target.EcsParameters is required for the ECS cluster target ${target.Arn}.`);
  const dlq = (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
  if (target.DeadLetterConfig !== undefined && (typeof dlq !== 'string' || !/^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_-]+$/.test(dlq))) {
    throw validation(`Invalid Target.DeadLetterConfig.Arn ${String(dlq)}: the ARN of a standard SQS queue (arn:aws:sqs:<region>:<account>:<name>).`);
  }
  try {
    checkEcsTarget(eventTargetOf(target));
  } catch (error) {
    if (error instanceof ServiceError) throw validation(error.message.replace(`target ${TARGET_ID}`, 'Target').replace(`Target ${TARGET_ID}`, 'Target.EcsParameters'));
    throw error;
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
