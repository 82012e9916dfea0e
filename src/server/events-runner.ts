/**
 * How the leader's EventBridge dispatcher runs an ECS target: through the ECS API's own RunTask, in-process, as the
 * target's role. The role is assumed as EventBridge assumes it (the service principal `events.amazonaws.com`, or
 * `scheduler.amazonaws.com` for an EventBridge Scheduler schedule's target, which its trust policy must allow) and the call is authorized with the role's policies, like a RunTask signed by that
 * role's session (ecs:RunTask on the task definition, iam:PassRole for roles its overrides pass). A rule without a
 * role runs as the account's root, as berth's own rules would.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { rootPrincipal, type Principal } from '../api/auth/credentials.js';
import { authorizeCall, type Authorizer } from '../api/authz/authorizer.js';
import type { JsonService } from '../api/protocol/json-rpc.js';
import { assumeRole } from '../api/sts/assume-role.js';
import type { StsEnv } from '../api/sts/env.js';
import type { RunTaskForRule } from '../events/dispatcher.js';
import { ServiceError } from '../model/errors.js';

export function runTaskAsRule(options: { ecs: JsonService; sts: StsEnv; authorizer: Authorizer; accountId: string; log: Logger }): RunTaskForRule {
  return async (request, roleArn, invoker = 'events.amazonaws.com') => {
    let principal: Principal = rootPrincipal(options.accountId);
    if (roleArn !== undefined) {
      const assumed = await assumeRole(options.sts, {
        roleArn,
        assumer: { kind: 'Service', service: invoker },
        sessionName: `${invoker.split('.')[0]}-${randomUUID().slice(0, 8)}`,
        durationSeconds: () => 900,
      });
      if (!('credentials' in assumed)) throw new ServiceError('AccessDeniedException', `${invoker} could not assume the role ${roleArn}: its trust policy must allow ${invoker} sts:AssumeRole.`);
      principal = assumed.principal;
      await authorizeCall(options.authorizer, { principal, action: 'RunTask', actions: options.ecs.actions, input: request, remoteAddress: undefined, secure: true });
    }
    const run = options.ecs.operations.RunTask!;
    return (await run(request, { principal, requestId: randomUUID(), log: options.log, host: '' })) as Awaited<ReturnType<RunTaskForRule>>;
  };
}
