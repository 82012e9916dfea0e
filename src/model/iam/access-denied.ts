/**
 * The text of AWS's AccessDenied answers for identity-based policies, as services word them today (IAM User
 * Guide, "Troubleshoot access denied error messages"):
 *   User: arn:aws:iam::123456789012:user/ana is not authorized to perform: ecs:RunTask on resource: arn:… because
 *   no identity-based policy allows the ecs:RunTask action
 *   User: … is not authorized to perform: ecs:RunTask on resource: arn:… with an explicit deny in an
 *   identity-based policy
 * An action with no resource reads `on resource: *`.
 */
import type { Decision } from './evaluate.js';

/** The message for a denied decision (`principalArn` is the caller's ARN, session ARN for a role). */
export function accessDeniedMessage(principalArn: string, action: string, decision: Pick<Decision, 'effect' | 'resource'>): string {
  const head = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${decision.resource ?? '*'}`;
  if (decision.effect === 'ExplicitDeny') return `${head} with an explicit deny in an identity-based policy`;
  return `${head} because no identity-based policy allows the ${action} action`;
}
