/**
 * How the leader's EventBridge dispatcher calls a target's API: through berth's own API operations, in-process, as
 * the target's role. The role is assumed as EventBridge assumes it (the service principal `events.amazonaws.com`, or
 * `scheduler.amazonaws.com` for an EventBridge Scheduler schedule's target, which its trust policy must allow) and the
 * call is authorized with the role's policies, like the same call signed by that role's session (ecs:RunTask on the
 * task definition and iam:PassRole for roles its overrides pass; sqs:SendMessage on the queue; events:PutEvents on
 * the bus…). A rule without a role runs as the account's root, as berth's own rules would.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { rootPrincipal, type Principal } from '../api/auth/credentials.js';
import { authorizeCall, type Authorizer } from '../api/authz/authorizer.js';
import type { JsonService } from '../api/protocol/json-rpc.js';
import { withModelMemberNames } from '../api/protocol/member-names.js';
import { ShapeValidator } from '../api/protocol/shape-validator.js';
import { assumeRole } from '../api/sts/assume-role.js';
import type { StsEnv } from '../api/sts/env.js';
import type { RunTaskForRule, TargetCaller, TargetInvoker } from '../events/dispatcher.js';
import type { TargetApi } from '../events/scheduler/target-kinds.js';
import { ServiceError } from '../model/errors.js';

interface CallerOptions {
  readonly services: Readonly<Partial<Record<TargetApi, JsonService>>>;
  readonly sts: StsEnv;
  readonly authorizer: Authorizer;
  readonly accountId: string;
  readonly log: Logger;
}

/** Calls `action` of one of berth's JSON APIs with `input` as `roleArn` assumed by `invoker` (root without a role). */
export function callAsRole(options: CallerOptions): TargetCaller {
  const validators = new Map<JsonService, ShapeValidator>();
  return async (call, roleArn, invoker) => {
    const service = options.services[call.api];
    const operation = service && Object.hasOwn(service.operations, call.action) ? service.operations[call.action] : undefined;
    const model = service?.model.operations[call.action];
    if (!service || !operation || !model) throw new ServiceError('ValidationException', `berth does not serve ${call.api}:${call.action} for targets.`);
    let input: unknown = call.input;
    if (model.input) {
      if (call.userInput) input = withModelMemberNames(service.model, model.input.shape, input);
      let validator = validators.get(service);
      if (!validator) validators.set(service, (validator = new ShapeValidator(service.model, 'input', service.inputErrorType)));
      validator.check(model.input.shape, input);
    }
    const principal = await principalOf(options, roleArn, invoker);
    if (principal.type !== 'Root') {
      await authorizeCall(options.authorizer, { principal, action: call.action, actions: service.actions, input, remoteAddress: undefined, secure: true });
    }
    return (await operation(input, { principal, requestId: randomUUID(), log: options.log, host: '' })) as Record<string, unknown>;
  };
}

/** RunTask as a rule's (or a templated ECS schedule target's) role. */
export function runTaskAsRule(options: { ecs: JsonService; sts: StsEnv; authorizer: Authorizer; accountId: string; log: Logger }): RunTaskForRule {
  const call = callAsRole({ ...options, services: { ecs: options.ecs } });
  return async (request, roleArn, invoker = 'events.amazonaws.com') =>
    (await call({ api: 'ecs', action: 'RunTask', input: request as unknown as Record<string, unknown>, userInput: false }, roleArn, invoker)) as Awaited<ReturnType<RunTaskForRule>>;
}

async function principalOf(options: CallerOptions, roleArn: string | undefined, invoker: TargetInvoker): Promise<Principal> {
  if (roleArn === undefined) return rootPrincipal(options.accountId);
  const assumed = await assumeRole(options.sts, {
    roleArn,
    assumer: { kind: 'Service', service: invoker },
    sessionName: `${invoker.split('.')[0]}-${randomUUID().slice(0, 8)}`,
    durationSeconds: () => 900,
  });
  if (!('credentials' in assumed)) throw new ServiceError('AccessDeniedException', `${invoker} could not assume the role ${roleArn}: its trust policy must allow ${invoker} sts:AssumeRole.`);
  return assumed.principal;
}
