/**
 * The text of AWS's AccessDenied answers for identity-based policies, as services word them today (IAM User
 * Guide, "Troubleshoot access denied error messages"):
 *   User: arn:aws:iam::123456789012:user/ana is not authorized to perform: ecs:RunTask on resource: arn:… because
 *   no identity-based policy allows the ecs:RunTask action
 *   User: … is not authorized to perform: ecs:RunTask on resource: arn:… with an explicit deny in an
 *   identity-based policy
 * and, for a role session whose session policy decided, `… because no session policy allows the ecs:RunTask action`
 * or `… with an explicit deny in a session policy`. An action with no resource reads `on resource: *`.
 */
import type { Decision } from './evaluate.js';

/** The message for a denied decision (`principalArn` is the caller's ARN, session ARN for a role). */
export function accessDeniedMessage(principalArn: string, action: string, decision: Pick<Decision, 'effect' | 'resource' | 'policyType'>): string {
  const head = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${decision.resource ?? '*'}`;
  const type = decision.policyType ?? 'identity-based';
  if (decision.effect === 'ExplicitDeny') return `${head} with an explicit deny in ${type === 'session' ? 'a' : 'an'} ${type} policy`;
  return `${head} because no ${type} policy allows the ${action} action`;
}
