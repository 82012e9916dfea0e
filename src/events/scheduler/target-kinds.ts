/**
 * The kinds of target a schedule may have, within the APIs berth itself serves (pure):
 *
 *   templated  arn:aws:ecs:<region>:<account>:cluster/<name>        + EcsParameters          → ecs RunTask
 *              arn:aws:sqs:<region>:<account>:<queue>                (+ SqsParameters)        → sqs SendMessage
 *              arn:aws:events:<region>:<account>:event-bus/<name>   + EventBridgeParameters  → events PutEvents
 *   universal  arn:aws:scheduler:::aws-sdk:<service>:<apiAction>     Input = the action's JSON request
 *
 * Anything else is refused at CreateSchedule/UpdateSchedule with the ValidationException EventBridge Scheduler
 * answers (`<service> is not a supported service for a target.`). Read-only universal actions are refused as the
 * User Guide ("Using universal targets") lists them.
 */
export type TargetApi = 'ecs' | 'sqs' | 'events';

export type ScheduleTargetKind =
  | { readonly kind: 'ecs' }
  | { readonly kind: 'sqs'; readonly region: string; readonly account: string; readonly queue: string }
  | { readonly kind: 'eventbridge' }
  | { readonly kind: 'universal'; readonly api: TargetApi; readonly action: string };

/** An API call a delivery attempt makes: `action` an operation of `api` (PascalCase), `input` its request. */
export interface TargetCall {
  readonly api: TargetApi;
  readonly action: string;
  readonly input: Record<string, unknown>;
  /** The input was written by the user (a universal target): its member names are matched to the model's regardless of case. */
  readonly userInput: boolean;
}

/** The templated targets' parameter members; a target may carry only its own kind's. */
export const TEMPLATED_PARAMETERS = ['EcsParameters', 'EventBridgeParameters', 'KinesisParameters', 'SageMakerPipelineParameters', 'SqsParameters'] as const;
export type TemplatedParameters = (typeof TEMPLATED_PARAMETERS)[number];

/** Universal targets' SDK service identifiers berth serves, and the API each names. */
const UNIVERSAL_SERVICES: Readonly<Record<string, TargetApi>> = { ecs: 'ecs', sqs: 'sqs', eventbridge: 'events', events: 'events' };

/** The actions a universal target may call (berth serves them in-process; none is read-only). */
export const UNIVERSAL_ACTIONS: Readonly<Record<TargetApi, readonly string[]>> = {
  ecs: ['RunTask', 'StopTask', 'UpdateService', 'CreateService', 'DeleteService', 'TagResource', 'UntagResource'],
  sqs: ['SendMessage', 'SendMessageBatch', 'DeleteMessage', 'ChangeMessageVisibility', 'PurgeQueue', 'CreateQueue', 'DeleteQueue', 'SetQueueAttributes', 'TagQueue', 'UntagQueue'],
  events: ['PutEvents', 'EnableRule', 'DisableRule', 'TagResource', 'UntagResource'],
};

/** The User Guide's read-only prefixes, which no universal target may call. */
const READ_ONLY_PREFIXES = [
  'get', 'describe', 'list', 'poll', 'receive', 'search', 'scan', 'query', 'select', 'read', 'lookup', 'discover', 'validate', 'batchGet', 'batchDescribe',
  'batchRead', 'transactGet', 'adminGet', 'adminList', 'testMigration', 'retrieve', 'testConnection', 'translateDocument', 'isAuthorized', 'invokeModel',
];

const ECS_CLUSTER = /^arn:aws[\w-]*:ecs:[^:]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const SQS_QUEUE = /^arn:aws[\w-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;
const EVENT_BUS = /^arn:aws[\w-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]{1,256}$/;
const UNIVERSAL = /^arn:aws[\w-]*:scheduler:::aws-sdk:([A-Za-z0-9-]+):([A-Za-z0-9]+)$/;

/** A target ARN's kind, or the ValidationException message refusing it. */
export function targetKindOf(arn: string): ScheduleTargetKind | { readonly refused: string } {
  if (ECS_CLUSTER.test(arn)) return { kind: 'ecs' };
  const queue = SQS_QUEUE.exec(arn);
  if (queue) return { kind: 'sqs', region: queue[1]!, account: queue[2]!, queue: queue[3]! };
  if (EVENT_BUS.test(arn)) return { kind: 'eventbridge' };
  const universal = UNIVERSAL.exec(arn);
  if (universal) {
    const [, service, apiAction] = universal as unknown as [string, string, string];
    const api = Object.hasOwn(UNIVERSAL_SERVICES, service) ? UNIVERSAL_SERVICES[service] : undefined;
    if (!api) return { refused: `${service} is not a supported service for a target.` };
    if (READ_ONLY_PREFIXES.some((p) => apiAction.startsWith(p))) {
      return { refused: `${service}:${apiAction} is not a supported action for a target: EventBridge Scheduler does not call read-only actions (${READ_ONLY_PREFIXES.slice(0, 6).join(', ')}, …).` };
    }
    const action = apiAction.charAt(0).toUpperCase() + apiAction.slice(1);
    if (!/^[a-z]/.test(apiAction) || !UNIVERSAL_ACTIONS[api].includes(action)) {
      return { refused: `${service}:${apiAction} is not a supported action for a target: berth serves ${UNIVERSAL_ACTIONS[api].map((a) => `${service}:${a.charAt(0).toLowerCase()}${a.slice(1)}`).join(', ')}.` };
    }
    return { kind: 'universal', api, action };
  }
  const service = /^arn:aws[\w-]*:([^:]*):/.exec(arn)?.[1];
  if (service !== undefined && service !== 'ecs' && service !== 'sqs' && service !== 'events' && service !== 'scheduler') return { refused: `${service || arn} is not a supported service for a target.` };
  return { refused: `Invalid Target.Arn ${arn}: an ECS cluster, an SQS queue, an EventBridge event bus, or a universal target arn:aws:scheduler:::aws-sdk:<service>:<apiAction>.` };
}

/** The parameters member a kind takes (required for ECS and EventBridge), if any. */
export function parametersOf(kind: ScheduleTargetKind): { readonly member: TemplatedParameters; readonly required: boolean } | undefined {
  if (kind.kind === 'ecs') return { member: 'EcsParameters', required: true };
  if (kind.kind === 'eventbridge') return { member: 'EventBridgeParameters', required: true };
  if (kind.kind === 'sqs') return { member: 'SqsParameters', required: false };
  return undefined;
}

/** The queue URL berth resolves an SQS queue ARN to (the path names the queue; the host is not read). */
export const queueUrlOf = (kind: { region: string; account: string; queue: string }) => `https://sqs.${kind.region}.amazonaws.com/${kind.account}/${kind.queue}`;

/**
 * The call one attempt makes for a target that is not the templated ECS one: `input` is the target's Input of this
 * attempt (context attributes replaced; '' without one), `scheduleArn` the schedule's.
 */
export function targetCallOf(target: { readonly Arn: string } & Readonly<Record<string, unknown>>, input: string, scheduleArn: string, clientToken: string): TargetCall {
  const kind = targetKindOf(target.Arn);
  if ('refused' in kind) throw new Error(kind.refused);
  switch (kind.kind) {
    case 'sqs': {
      const group = (target.SqsParameters as { MessageGroupId?: string } | undefined)?.MessageGroupId;
      return { api: 'sqs', action: 'SendMessage', input: { QueueUrl: queueUrlOf(kind), MessageBody: input || DEFAULT_INPUT, ...(group !== undefined ? { MessageGroupId: group } : {}) }, userInput: false };
    }
    case 'eventbridge': {
      const p = target.EventBridgeParameters as { DetailType: string; Source: string };
      const entry = { EventBusName: target.Arn, Source: p.Source, DetailType: p.DetailType, Detail: input || DEFAULT_INPUT, Resources: [scheduleArn] };
      return { api: 'events', action: 'PutEvents', input: { Entries: [entry] }, userInput: false };
    }
    case 'universal': {
      const request = JSON.parse(input || DEFAULT_INPUT) as Record<string, unknown>;
      // A RunTask retried by a leader that died after it started the task answers with that task (its client token).
      const token = kind.api === 'ecs' && kind.action === 'RunTask' && !Object.keys(request).some((k) => k.toLowerCase() === 'clienttoken') ? { clientToken } : {};
      return { api: kind.api, action: kind.action, input: { ...request, ...token }, userInput: true };
    }
    case 'ecs':
      throw new Error('the templated ECS target runs through RunTask, not a TargetCall');
  }
}

/** What berth sends when a target has no Input (EventBridge Scheduler's "default notification"; berth's is `{}`). */
export const DEFAULT_INPUT = '{}';

/**
 * Whether a call's answer reports a failure although the call succeeded: PutEvents' failed entries, a batch's
 * Failed list. Undefined when it went through.
 */
export function failureInAnswer(call: TargetCall, answer: Readonly<Record<string, unknown>>): { code: string; error: string } | undefined {
  if (call.action === 'PutEvents' && Number(answer.FailedEntryCount ?? 0) > 0) {
    const failed = ((answer.Entries ?? []) as { ErrorCode?: string; ErrorMessage?: string }[]).find((e) => e.ErrorCode !== undefined);
    return { code: failed?.ErrorCode ?? 'FailedEntry', error: `PutEvents refused an entry: ${failed?.ErrorCode ?? ''} ${failed?.ErrorMessage ?? ''}`.trim() };
  }
  if (call.action === 'SendMessageBatch' && ((answer.Failed ?? []) as unknown[]).length > 0) {
    const failed = (answer.Failed as { Code?: string; Message?: string }[])[0]!;
    return { code: failed.Code ?? 'BatchEntryFailed', error: `SendMessageBatch refused an entry: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim() };
  }
  return undefined;
}
