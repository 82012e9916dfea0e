// AWS's AccessDenied wording: IAM User Guide, "Troubleshoot access denied error messages"
// (troubleshoot_access-denied.html), and the shape the issue quotes for ECS.
import { describe, expect, it } from 'vitest';
import { accessDeniedMessage } from './access-denied.js';
import { evaluate, evaluateSession } from './evaluate.js';
import { parsePolicyDocument } from './policy-document.js';

const USER = 'arn:aws:iam::111122223333:user/ana';
const CLUSTER = 'arn:aws:ecs:us-east-1:111122223333:cluster/prod';

describe('accessDeniedMessage', () => {
  it('implicit deny', () => {
    expect(accessDeniedMessage(USER, 'ecs:RunTask', { effect: 'ImplicitDeny', resource: CLUSTER })).toBe(
      `User: ${USER} is not authorized to perform: ecs:RunTask on resource: ${CLUSTER} because no identity-based policy allows the ecs:RunTask action`,
    );
  });
  it('explicit deny, from a real decision', () => {
    const deny = parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Deny', Action: 'ecs:*', Resource: '*' } }), 'identity');
    const d = evaluate({ principal: { arn: USER, accountId: '111122223333', type: 'User' }, action: 'ecs:RunTask', resources: [CLUSTER], context: new Map() }, [deny]);
    expect(accessDeniedMessage(USER, 'ecs:RunTask', d)).toBe(
      `User: ${USER} is not authorized to perform: ecs:RunTask on resource: ${CLUSTER} with an explicit deny in an identity-based policy`,
    );
  });
  it('an action without a resource reads "on resource: *"', () => {
    expect(accessDeniedMessage(USER, 'ecs:ListClusters', { effect: 'ImplicitDeny' })).toContain('on resource: * because');
  });

  it('a session policy that decided is named as such', () => {
    const SESSION = 'arn:aws:sts::111122223333:assumed-role/app/s1';
    const principal = { arn: SESSION, accountId: '111122223333', type: 'AssumedRole' as const };
    const doc = (effect: string, action: string) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: { Effect: effect, Action: action, Resource: '*' } }), 'identity');
    const role = [doc('Allow', 'ecs:*')];
    const runTask = { principal, action: 'ecs:RunTask', resources: [CLUSTER], context: new Map() };
    expect(accessDeniedMessage(SESSION, 'ecs:RunTask', evaluateSession(runTask, role, [doc('Allow', 'ecs:ListClusters')]))).toBe(
      `User: ${SESSION} is not authorized to perform: ecs:RunTask on resource: ${CLUSTER} because no session policy allows the ecs:RunTask action`,
    );
    expect(accessDeniedMessage(SESSION, 'ecs:RunTask', evaluateSession(runTask, role, [doc('Allow', '*'), doc('Deny', 'ecs:RunTask')]))).toBe(
      `User: ${SESSION} is not authorized to perform: ecs:RunTask on resource: ${CLUSTER} with an explicit deny in a session policy`,
    );
    // The role's own refusal is still the identity-based policies'.
    expect(accessDeniedMessage(SESSION, 'iam:CreateUser', evaluateSession({ ...runTask, action: 'iam:CreateUser' }, role, [doc('Allow', '*')]))).toContain(
      'because no identity-based policy allows the iam:CreateUser action',
    );
  });
});
