import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import { parsePolicyDocument } from './policy-document.js';
import type { AuthzPrincipal, AuthzRequest } from './request-context.js';

const ACCOUNT = '111122223333';
const ana: AuthzPrincipal = { arn: `arn:aws:iam::${ACCOUNT}:user/ana`, accountId: ACCOUNT, type: 'User', userName: 'ana', userId: 'AIDAEXAMPLEANA' };
const session: AuthzPrincipal = { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`, accountId: ACCOUNT, type: 'AssumedRole', userId: 'AROAEXAMPLE:s1' };

const compile = (...statements: object[]) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'identity');

function request(action: string, resources: string[] = [], context: Record<string, string | string[]> = {}, principal = ana): AuthzRequest {
  return { principal, action, resources, context: new Map(Object.entries(context)), now: Date.parse('2026-06-01T12:00:00Z') };
}

describe('evaluate: the IAM User Guide examples', () => {
  // "The difference between explicit and implicit denies" (reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html)
  const getList = compile(
    { Sid: 'AllowGetList', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
    { Sid: 'DenyReports', Effect: 'Deny', Action: 'iam:*Report', Resource: '*' },
  );
  const reports = compile({ Effect: 'Allow', Action: 'iam:GenerateCredentialReport', Resource: '*' });
  it.each([
    ['iam:GetUser', 'Allow', 'AllowGetList'],
    ['iam:listusers', 'Allow', 'AllowGetList'], // action names are case-insensitive
    ['iam:CreatePolicy', 'ImplicitDeny', undefined],
    ['iam:GetOrganizationsAccessReport', 'ExplicitDeny', 'DenyReports'],
  ])('explicit and implicit denies: %s → %s', (action, effect, sid) => {
    const d = evaluate(request(action), [getList]);
    expect(d.effect).toBe(effect);
    expect(d.statement?.sid).toBe(sid);
  });
  it('a Deny wins over an Allow added in another policy (iam:GenerateCredentialReport)', () => {
    expect(evaluate(request('iam:GenerateCredentialReport'), [reports]).effect).toBe('Allow');
    expect(evaluate(request('iam:GenerateCredentialReport'), [reports, getList])).toMatchObject({
      effect: 'ExplicitDeny',
      statement: { policyIndex: 1, statementIndex: 1, sid: 'DenyReports' },
    });
  });

  // "IAM JSON policy elements: NotAction" (reference_policies_elements_notaction.html)
  it('NotAction with Allow allows everything but the listed service', () => {
    const p = compile({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    expect(evaluate(request('ecs:RunTask', ['arn:aws:ecs:us-east-1:111122223333:cluster/default']), [p]).effect).toBe('Allow');
    expect(evaluate(request('iam:CreateUser'), [p]).effect).toBe('ImplicitDeny');
  });
  it('NotAction with Deny and BoolIfExists: everything but IAM is denied without MFA', () => {
    const p = compile(
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Sid: 'DenyAllUsersNotUsingMFA', Effect: 'Deny', NotAction: 'iam:*', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } },
    );
    expect(evaluate(request('ecs:ListClusters'), [p]).effect).toBe('ExplicitDeny');
    expect(evaluate(request('ecs:ListClusters', [], { 'aws:MultiFactorAuthPresent': 'false' }), [p]).effect).toBe('ExplicitDeny');
    expect(evaluate(request('ecs:ListClusters', [], { 'aws:MultiFactorAuthPresent': 'true' }), [p]).effect).toBe('Allow');
    expect(evaluate(request('iam:ChangePassword'), [p]).effect).toBe('Allow');
  });

  // "IAM JSON policy elements: NotResource" (reference_policies_elements_notresource.html)
  it('NotResource allows every resource but the ones listed', () => {
    const p = compile({ Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] });
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::HRBucket/Recruiting/cv.pdf']), [p]).effect).toBe('Allow');
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::HRBucket/Payroll/2026.csv']), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('s3:ListBucket', ['arn:aws:s3:::HRBucket/Payroll']), [p]).effect).toBe('ImplicitDeny');
  });

  // "IAM policy elements: Variables and tags" (reference_policies_variables.html)
  it('${aws:username} gives each user their own home folder; a role session has no username', () => {
    const p = compile({ Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}', 'arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*'] });
    expect(evaluate(request('s3:PutObject', ['arn:aws:s3:::amzn-s3-demo-bucket/home/ana/notes.txt']), [p]).effect).toBe('Allow');
    expect(evaluate(request('s3:PutObject', ['arn:aws:s3:::amzn-s3-demo-bucket/home/bob/notes.txt']), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('s3:PutObject', ['arn:aws:s3:::amzn-s3-demo-bucket/home/ana/x'], {}, session), [p]).effect).toBe('ImplicitDeny');
  });
  it('a variable with a default value, and the ${*} escape stays literal', () => {
    const p = compile(
      { Effect: 'Allow', Action: 's3:GetObject', Resource: "arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team, 'company-wide'}/*" },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/${*}' },
    );
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::amzn-s3-demo-bucket/company-wide/a']), [p]).effect).toBe('Allow');
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::amzn-s3-demo-bucket/red/a'], { 'aws:PrincipalTag/team': 'red' }), [p]).effect).toBe('Allow');
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::amzn-s3-demo-bucket/company-wide/a'], { 'aws:PrincipalTag/team': 'red' }), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('s3:PutObject', ['arn:aws:s3:::amzn-s3-demo-bucket/*']), [p]).effect).toBe('Allow');
    expect(evaluate(request('s3:PutObject', ['arn:aws:s3:::amzn-s3-demo-bucket/anything']), [p]).effect).toBe('ImplicitDeny');
  });
  it('a username with wildcard characters is matched literally', () => {
    const p = compile({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/home/${aws:username}/*' });
    const star = { ...ana, userName: 'a*' };
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::b/home/a*/f'], {}, star), [p]).effect).toBe('Allow');
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::b/home/ana/f'], {}, star), [p]).effect).toBe('ImplicitDeny');
  });
  it('a 2008-10-17 document reads ${...} as plain text', () => {
    const p = parsePolicyDocument(JSON.stringify({ Version: '2008-10-17', Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/${aws:username}' } }), 'identity');
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::b/ana']), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('s3:GetObject', ['arn:aws:s3:::b/${aws:username}']), [p]).effect).toBe('Allow');
  });

  // Amazon ECS Developer Guide, "Amazon ECS identity-based policy examples": tasks only on one cluster.
  it('ecs:cluster: RunTask only in the named cluster', () => {
    const p = compile({
      Effect: 'Allow',
      Action: ['ecs:RunTask', 'ecs:StartTask'],
      Condition: { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:111122223333:cluster/default' } },
      Resource: 'arn:aws:ecs:us-east-1:111122223333:task-definition/*',
    });
    const td = ['arn:aws:ecs:us-east-1:111122223333:task-definition/web:3'];
    expect(evaluate(request('ecs:RunTask', td, { 'ecs:cluster': 'arn:aws:ecs:us-east-1:111122223333:cluster/default' }), [p]).effect).toBe('Allow');
    expect(evaluate(request('ecs:RunTask', td, { 'ecs:cluster': 'arn:aws:ecs:us-east-1:111122223333:cluster/prod' }), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('ecs:RunTask', td), [p]).effect).toBe('ImplicitDeny');
  });
});

describe('evaluate: resources and wildcards', () => {
  const describeOne = compile({ Effect: 'Allow', Action: 'ecs:Describe*', Resource: 'arn:aws:ecs:us-east-1:111122223333:cluster/dev' });
  it('every resource of a request must be allowed', () => {
    const dev = 'arn:aws:ecs:us-east-1:111122223333:cluster/dev';
    const prod = 'arn:aws:ecs:us-east-1:111122223333:cluster/prod';
    expect(evaluate(request('ecs:DescribeClusters', [dev]), [describeOne]).effect).toBe('Allow');
    expect(evaluate(request('ecs:DescribeClusters', [dev, prod]), [describeOne])).toEqual({ effect: 'ImplicitDeny', resource: prod });
  });
  it('an action with no resource is the resource "*", which only "*" patterns cover', () => {
    expect(evaluate(request('ecs:DescribeClusters'), [describeOne]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('ecs:ListClusters'), [compile({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' })]).effect).toBe('Allow');
  });
  it('resources are case-sensitive, actions are not', () => {
    expect(evaluate(request('ECS:describeclusters', ['arn:aws:ecs:us-east-1:111122223333:cluster/dev']), [describeOne]).effect).toBe('Allow');
    expect(evaluate(request('ecs:DescribeClusters', ['arn:aws:ecs:us-east-1:111122223333:cluster/DEV']), [describeOne]).effect).toBe('ImplicitDeny');
  });
  it('? matches one character; a * inside an ARN segment stays in it, a * ending a segment spans colons', () => {
    const p = compile({ Effect: 'Allow', Action: 'logs:*', Resource: ['arn:aws:logs:us-east-?:*:log-group:/ecs/a*b', 'arn:aws:ecs:*'] });
    expect(evaluate(request('logs:PutLogEvents', ['arn:aws:logs:us-east-1:111122223333:log-group:/ecs/axxb']), [p]).effect).toBe('Allow');
    expect(evaluate(request('logs:PutLogEvents', ['arn:aws:logs:us-east-12:111122223333:log-group:/ecs/ab']), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('logs:PutLogEvents', ['arn:aws:logs:us-east-1:111122223333:log-group:/ecs/a:b']), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('logs:Get', ['arn:aws:ecs:us-east-1:111122223333:task/c/1']), [p]).effect).toBe('Allow');
  });
  it('no policies: implicit deny', () => {
    expect(evaluate(request('ecs:ListClusters'), [])).toEqual({ effect: 'ImplicitDeny', resource: '*' });
  });
});

describe('evaluate: wildcard actions, indexed by service', () => {
  it('a pattern matches only its own service, case-insensitively; `*` matches every action', () => {
    const p = compile({ Sid: 'Ecs', Effect: 'Allow', Action: ['ECS:describe*', 'ecs:List?asks', 'sqs:Get*', 'ecr:*'], Resource: '*' });
    const decide = (action: string, policy = p) => evaluate(request(action), [policy]).statement?.sid ?? 'ImplicitDeny';
    expect(decide('ecs:DescribeClusters')).toBe('Ecs');
    expect(decide('ecs:ListTasks')).toBe('Ecs');
    expect(decide('ecs:ListServices')).toBe('ImplicitDeny');
    expect(decide('ecr:PutImage')).toBe('Ecs');
    expect(decide('ecr-public:DescribeRepositories')).toBe('ImplicitDeny');
    expect(decide('sqs:GetQueueUrl')).toBe('Ecs');
    expect(decide('sns:GetTopicAttributes')).toBe('ImplicitDeny');
    expect(decide('ecs')).toBe('ImplicitDeny'); // no service prefix at all
    const all = compile({ Sid: 'All', Effect: 'Allow', Action: ['*'], Resource: '*' });
    expect(decide('ecs:RunTask', all)).toBe('All');
    expect(decide('ecs', all)).toBe('All');
  });
  it('NotAction with indexed patterns: everything but the matched actions', () => {
    const p = compile({ Effect: 'Allow', NotAction: ['ecs:Run*', 'ecr:Delete*'], Resource: '*' });
    expect(evaluate(request('ecs:RunTask'), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('ecr:DeleteRepository'), [p]).effect).toBe('ImplicitDeny');
    expect(evaluate(request('ecs:StartTask'), [p]).effect).toBe('Allow');
    expect(evaluate(request('ecs:DeleteCluster'), [p]).effect).toBe('Allow');
  });
});
