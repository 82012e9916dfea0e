// Trust policies as AssumeRole checks them: IAM User Guide, "AWS JSON policy elements: Principal"
// (reference_policies_elements_principal.html) and the Amazon ECS Developer Guide's task role trust policy
// (task-iam-roles.html), which names the service principal ecs-tasks.amazonaws.com.
import { describe, expect, it } from 'vitest';
import { parsePolicyDocument } from './policy-document.js';
import { evaluateTrust, trustMatch, type TrustPrincipal } from './trust.js';

const trust = (...statements: object[]) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'trust');
const aws = (arn: string, roleArn?: string): TrustPrincipal => ({ kind: 'AWS', arn, accountId: arn.split(':')[4]!, ...(roleArn ? { roleArn } : {}) });
const ANA = aws('arn:aws:iam::111122223333:user/ana');
const BOB = aws('arn:aws:iam::111122223333:user/bob');
const OTHER = aws('arn:aws:iam::444455556666:user/eve');
const TASKS: TrustPrincipal = { kind: 'Service', service: 'ecs-tasks.amazonaws.com' };

describe('evaluateTrust', () => {
  it('the ECS task role trust policy lets ecs-tasks.amazonaws.com assume the role, and no one else', () => {
    const p = trust({ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' });
    expect(evaluateTrust(TASKS, 'sts:AssumeRole', p)).toBe(true);
    expect(evaluateTrust({ kind: 'Service', service: 'ec2.amazonaws.com' }, 'sts:AssumeRole', p)).toBe(false);
    expect(evaluateTrust(ANA, 'sts:AssumeRole', p)).toBe(false);
    expect(evaluateTrust(TASKS, 'sts:TagSession', p)).toBe(false);
  });

  it.each([
    ['an account id', '111122223333'],
    ['the account root ARN', 'arn:aws:iam::111122223333:root'],
  ])('%s trusts every principal of that account', (_n, entry) => {
    const p = trust({ Effect: 'Allow', Principal: { AWS: entry }, Action: 'sts:AssumeRole' });
    expect(evaluateTrust(ANA, 'sts:AssumeRole', p)).toBe(true);
    expect(evaluateTrust(BOB, 'sts:AssumeRole', p)).toBe(true);
    expect(evaluateTrust(OTHER, 'sts:AssumeRole', p)).toBe(false);
  });

  it('a user ARN trusts that user only; a role ARN trusts the sessions of that role', () => {
    const p = trust({ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::111122223333:user/ana', 'arn:aws:iam::111122223333:role/team/ci'] }, Action: 'sts:AssumeRole' });
    expect(evaluateTrust(ANA, 'sts:AssumeRole', p)).toBe(true);
    expect(evaluateTrust(BOB, 'sts:AssumeRole', p)).toBe(false);
    expect(evaluateTrust(aws('arn:aws:sts::111122223333:assumed-role/ci/run-7', 'arn:aws:iam::111122223333:role/team/ci'), 'sts:AssumeRole', p)).toBe(true);
    expect(evaluateTrust(aws('arn:aws:sts::111122223333:assumed-role/cd/run-7', 'arn:aws:iam::111122223333:role/cd'), 'sts:AssumeRole', p)).toBe(false);
  });

  it('"*" trusts anyone; a Deny wins; NotPrincipal excludes; conditions apply', () => {
    const p = trust(
      { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } },
      { Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::111122223333:user/bob' }, Action: 'sts:*' },
    );
    expect(evaluateTrust(ANA, 'sts:AssumeRole', p)).toBe(true);
    expect(evaluateTrust(BOB, 'sts:AssumeRole', p)).toBe(false);
    expect(evaluateTrust(OTHER, 'sts:AssumeRole', p)).toBe(false);
    const not = trust({ Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::111122223333:user/bob' }, Action: 'sts:AssumeRole' });
    expect(evaluateTrust(ANA, 'sts:AssumeRole', not)).toBe(true);
    expect(evaluateTrust(BOB, 'sts:AssumeRole', not)).toBe(false);
  });

  it('external id and source ARN conditions read the caller-supplied context', () => {
    const p = trust({ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'x-1' } } });
    expect(evaluateTrust(ANA, 'sts:AssumeRole', p, new Map([['sts:ExternalId', 'x-1']]))).toBe(true);
    expect(evaluateTrust(ANA, 'sts:AssumeRole', p, new Map([['sts:ExternalId', 'x-2']]))).toBe(false);
    expect(evaluateTrust(ANA, 'sts:AssumeRole', p)).toBe(false);
  });

  // IAM User Guide, "Cross-account policy evaluation logic" and "How to use trust policies with IAM roles": a role
  // trust policy naming only the account delegates to the caller's identity policies, even within the account.
  it('says whether the caller itself or only its account is named', () => {
    const byAccount = trust({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'sts:AssumeRole' });
    const byId = trust({ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole' });
    const both = trust(
      { Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole' },
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/ana' }, Action: 'sts:AssumeRole' },
    );
    const byRole = trust({ Effect: 'Allow', Principal: { AWS: ['111122223333', 'arn:aws:iam::111122223333:role/ci'] }, Action: 'sts:AssumeRole' });
    const session = aws('arn:aws:sts::111122223333:assumed-role/ci/run-7', 'arn:aws:iam::111122223333:role/ci');
    expect(trustMatch(ANA, 'sts:AssumeRole', byAccount)).toBe('account');
    expect(trustMatch(ANA, 'sts:AssumeRole', byId)).toBe('account');
    expect(trustMatch(OTHER, 'sts:AssumeRole', byId)).toBeUndefined();
    expect(trustMatch(ANA, 'sts:AssumeRole', both)).toBe('principal');
    expect(trustMatch(BOB, 'sts:AssumeRole', both)).toBe('account');
    expect(trustMatch(session, 'sts:AssumeRole', byRole)).toBe('principal');
    expect(trustMatch(ANA, 'sts:AssumeRole', byRole)).toBe('account');
    expect(trustMatch(TASKS, 'sts:AssumeRole', trust({ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }))).toBe('principal');
    expect(trustMatch(ANA, 'sts:AssumeRole', trust({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }))).toBe('principal');
    // A Deny naming the account still wins over an Allow naming the caller.
    const denied = trust(
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/ana' }, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole' },
    );
    expect(trustMatch(ANA, 'sts:AssumeRole', denied)).toBeUndefined();
  });
});
