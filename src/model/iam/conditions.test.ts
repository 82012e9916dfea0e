// Condition operators, from the IAM User Guide pages "IAM JSON policy elements: Condition operators"
// (reference_policies_elements_condition_operators.html) and "Set operators for multivalued context keys"
// (reference_policies_condition-single-vs-multi-valued-context-keys.html). Each row: operator, key, policy
// value(s), request context (undefined: key absent), expected result.
import { describe, expect, it } from 'vitest';
import { compileCondition, parseOperator } from './conditions.js';

type Ctx = string | string[] | undefined;
type Row = [operator: string, key: string, values: string[], context: Ctx, expected: boolean];

function check(operator: string, key: string, values: string[], context: Ctx, vars: Record<string, string> = {}): boolean {
  const lookup = (k: string) => {
    if (k.toLowerCase() === key.toLowerCase()) return context;
    return Object.entries(vars).find(([name]) => name.toLowerCase() === k.toLowerCase())?.[1];
  };
  return compileCondition(operator, key, values, true).test(lookup);
}

const rows: Row[] = [
  // String operators (doc example: aws:PrincipalTag/job-category = iamuser-admin)
  ['StringEquals', 'aws:PrincipalTag/job-category', ['iamuser-admin'], 'iamuser-admin', true],
  ['StringEquals', 'aws:PrincipalTag/job-category', ['iamuser-admin'], 'IAMUSER-ADMIN', false],
  ['StringEquals', 'aws:PrincipalTag/job-category', ['iamuser-admin'], undefined, false],
  ['StringEquals', 'aws:PrincipalTag/job-category', ['a', 'iamuser-admin'], 'iamuser-admin', true], // values are ORed
  ['StringNotEquals', 'aws:PrincipalTag/job-category', ['iamuser-admin'], 'dev', true],
  ['StringNotEquals', 'aws:PrincipalTag/job-category', ['iamuser-admin', 'dev'], 'dev', false],
  ['StringNotEquals', 'aws:PrincipalTag/job-category', ['iamuser-admin'], undefined, true], // negated + absent = true
  ['StringEqualsIgnoreCase', 'aws:PrincipalTag/job-category', ['IAMUser-Admin'], 'iamuser-admin', true],
  ['StringNotEqualsIgnoreCase', 'aws:PrincipalTag/job-category', ['IAMUser-Admin'], 'iamuser-admin', false],
  ['StringLike', 's3:prefix', ['', 'home/', 'home/${aws:username}/*'], 'home/ana/docs', true],
  ['StringLike', 's3:prefix', ['home/${aws:username}/*'], 'home/bob/docs', false],
  ['StringLike', 'ec2:InstanceType', ['t?.micro'], 't2.micro', true],
  ['StringLike', 'ec2:InstanceType', ['t?.micro'], 't22.micro', false],
  ['StringNotLike', 'ec2:InstanceType', ['t*'], 'm5.large', true],
  ['StringNotLike', 'ec2:InstanceType', ['t*'], undefined, true],
  // Numeric operators (doc example: s3:max-keys <= 10)
  ['NumericLessThanEquals', 's3:max-keys', ['10'], '10', true],
  ['NumericLessThanEquals', 's3:max-keys', ['10'], '11', false],
  ['NumericLessThan', 's3:max-keys', ['10'], '10', false],
  ['NumericGreaterThan', 's3:max-keys', ['10'], '10.5', true],
  ['NumericGreaterThanEquals', 's3:max-keys', ['10'], '9', false],
  ['NumericEquals', 's3:max-keys', ['10'], '10.0', true],
  ['NumericNotEquals', 's3:max-keys', ['10'], '11', true],
  ['NumericEquals', 's3:max-keys', ['10'], 'ten', false],
  ['NumericEquals', 's3:max-keys', ['10'], undefined, false],
  // Date operators (doc example: aws:TokenIssueTime after 2020-01-01T00:00:01Z); epoch seconds work too
  ['DateGreaterThan', 'aws:TokenIssueTime', ['2020-01-01T00:00:01Z'], '2020-06-30T00:00:00Z', true],
  ['DateGreaterThan', 'aws:TokenIssueTime', ['2020-01-01T00:00:01Z'], '2019-12-31T23:59:59Z', false],
  ['DateLessThan', 'aws:CurrentTime', ['2026-01-01T00:00:00Z'], '2025-12-31T23:59:59Z', true],
  ['DateLessThanEquals', 'aws:CurrentTime', ['2026-01-01T00:00:00Z'], '2026-01-01T00:00:00Z', true],
  ['DateGreaterThanEquals', 'aws:EpochTime', ['1767225600'], '1767225600', true],
  ['DateEquals', 'aws:CurrentTime', ['1767225600'], '2026-01-01T00:00:00Z', true],
  ['DateNotEquals', 'aws:CurrentTime', ['2026-01-01T00:00:00Z'], '2026-01-02T00:00:00Z', true],
  ['DateLessThan', 'aws:CurrentTime', ['2026-01-01T00:00:00Z'], 'not a date', false],
  // Bool (doc example: aws:SecureTransport)
  ['Bool', 'aws:SecureTransport', ['true'], 'true', true],
  ['Bool', 'aws:SecureTransport', ['true'], 'false', false],
  ['Bool', 'aws:SecureTransport', ['false'], undefined, false],
  ['BoolIfExists', 'aws:MultiFactorAuthPresent', ['false'], undefined, true],
  // Binary
  ['BinaryEquals', 'key:name', ['QmluYXJ5VmFsdWVJbkJhc2U2NA=='], 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', true],
  // IP address (doc examples: 203.0.113.0/24 and 2001:DB8:1234:5678::/64)
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24'], '203.0.113.77', true],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24'], '203.0.114.1', false],
  ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8:1234:5678::/64'], '2001:db8:1234:5678::1', true],
  ['IpAddress', 'aws:SourceIp', ['2001:DB8:1234:5678::/64'], '2001:db8:1234:5679::1', false],
  ['IpAddress', 'aws:SourceIp', ['10.0.0.1'], '10.0.0.1', true],
  ['IpAddress', 'aws:SourceIp', ['0.0.0.0/0'], '192.168.1.1', true],
  ['NotIpAddress', 'aws:SourceIp', ['203.0.113.0/24'], '198.51.100.1', true],
  ['NotIpAddress', 'aws:SourceIp', ['203.0.113.0/24'], '203.0.113.9', false],
  ['NotIpAddress', 'aws:SourceIp', ['203.0.113.0/24'], undefined, true],
  // ARN operators (doc example: aws:SourceArn of an SNS topic); each segment is matched separately
  ['ArnEquals', 'aws:SourceArn', ['arn:aws:sns:us-east-1:123456789012:TOPIC-ID'], 'arn:aws:sns:us-east-1:123456789012:TOPIC-ID', true],
  ['ArnLike', 'aws:SourceArn', ['arn:aws:sns:*:123456789012:*'], 'arn:aws:sns:eu-west-1:123456789012:t', true],
  ['ArnLike', 'aws:SourceArn', ['arn:aws:sns:*:123456789012:*'], 'arn:aws:sns:eu-west-1:999999999999:t', false],
  ['ArnLike', 'ecs:cluster', ['arn:aws:ecs:*:*:cluster/dev-*'], 'arn:aws:ecs:us-east-1:1:cluster/dev-a', true],
  ['ArnNotLike', 'ecs:cluster', ['arn:aws:ecs:*:*:cluster/dev-*'], 'arn:aws:ecs:us-east-1:1:cluster/prod', true],
  ['ArnNotEquals', 'ecs:cluster', ['arn:aws:ecs:us-east-1:1:cluster/prod'], 'arn:aws:ecs:us-east-1:1:cluster/prod', false],
  ['ArnNotLike', 'ecs:cluster', ['arn:aws:ecs:*:*:cluster/dev-*'], undefined, true],
  // ...IfExists (doc example: ec2:InstanceType t1.*, t2.*, m3.*)
  ['StringLikeIfExists', 'ec2:InstanceType', ['t1.*', 't2.*', 'm3.*'], 't2.micro', true],
  ['StringLikeIfExists', 'ec2:InstanceType', ['t1.*', 't2.*', 'm3.*'], 'm5.large', false],
  ['StringLikeIfExists', 'ec2:InstanceType', ['t1.*', 't2.*', 'm3.*'], undefined, true],
  ['StringNotEqualsIfExists', 'iam:PassedToService', ['ecs-tasks.amazonaws.com'], 'ecs-tasks.amazonaws.com', false],
  ['NumericLessThanIfExists', 's3:max-keys', ['10'], undefined, true],
  ['ArnLikeIfExists', 'ecs:cluster', ['arn:aws:ecs:*:*:cluster/dev'], 'arn:aws:ecs:us-east-1:1:cluster/prod', false],
  ['IpAddressIfExists', 'aws:SourceIp', ['10.0.0.0/8'], undefined, true],
  ['DateLessThanIfExists', 'aws:TokenIssueTime', ['2020-01-01T00:00:00Z'], undefined, true],
  // Null (doc example: aws:TokenIssueTime true when no temporary credentials)
  ['Null', 'aws:TokenIssueTime', ['true'], undefined, true],
  ['Null', 'aws:TokenIssueTime', ['true'], '2026-01-01T00:00:00Z', false],
  ['Null', 'aws:TokenIssueTime', ['false'], '2026-01-01T00:00:00Z', true],
  ['Null', 'aws:TagKeys', ['false'], [], false],
  // Set operators (doc examples with aws:TagKeys)
  ['ForAllValues:StringEquals', 'aws:TagKeys', ['environment', 'cost-center'], ['environment'], true],
  ['ForAllValues:StringEquals', 'aws:TagKeys', ['environment', 'cost-center'], ['environment', 'owner'], false],
  ['ForAllValues:StringEquals', 'aws:TagKeys', ['environment', 'cost-center'], undefined, true],
  ['ForAllValues:StringEquals', 'aws:TagKeys', ['environment', 'cost-center'], [], true],
  ['ForAnyValue:StringEquals', 'aws:TagKeys', ['environment', 'cost-center'], ['owner', 'cost-center'], true],
  ['ForAnyValue:StringEquals', 'aws:TagKeys', ['environment', 'cost-center'], ['owner'], false],
  ['ForAnyValue:StringEquals', 'aws:TagKeys', ['environment'], undefined, false],
  ['ForAnyValue:StringLike', 'aws:TagKeys', ['env*'], ['owner', 'environment'], true],
  ['ForAllValues:StringLike', 'aws:TagKeys', ['env*', 'cost-*'], ['environment', 'cost-center'], true],
  ['ForAnyValue:StringNotEquals', 'aws:TagKeys', ['environment'], ['environment', 'owner'], true],
  ['ForAllValues:StringNotEquals', 'aws:TagKeys', ['environment'], ['environment', 'owner'], false],
  ['ForAllValues:StringEqualsIfExists', 'aws:TagKeys', ['a'], undefined, true],
  // A multivalued key without a set operator: true when any value matches
  ['StringEquals', 'aws:TagKeys', ['environment'], ['owner', 'environment'], true],
  ['StringNotEquals', 'aws:TagKeys', ['environment'], ['owner', 'environment'], false],
];

describe('condition operators', () => {
  it.each(rows)('%s %s %j, request %j → %s', (operator, key, values, context, expected) => {
    expect(check(operator, key, values, context, { 'aws:username': 'ana' })).toBe(expected);
  });

  it('keys are case-insensitive; variables in values are substituted', () => {
    expect(compileCondition('StringEquals', 'AWS:USERNAME', ['ana'], true).test((k) => (k.toLowerCase() === 'aws:username' ? 'ana' : undefined))).toBe(true);
    expect(check('StringEquals', 'aws:PrincipalTag/owner', ['${aws:username}'], 'ana', { 'aws:username': 'ana' })).toBe(true);
    expect(check('StringEquals', 'aws:PrincipalTag/owner', ['${aws:username}'], 'ana', {})).toBe(false);
  });

  it('knows every documented operator with and without IfExists and set qualifiers, except NullIfExists', () => {
    for (const op of ['StringEquals', 'NumericLessThan', 'DateGreaterThanEquals', 'Bool', 'IpAddress', 'ArnNotLike']) {
      expect(parseOperator(op)).toBeDefined();
      expect(parseOperator(`${op}IfExists`)?.ifExists).toBe(true);
      expect(parseOperator(`ForAnyValue:${op}`)?.qualifier).toBe('ForAnyValue');
      expect(parseOperator(`ForAllValues:${op}IfExists`)?.qualifier).toBe('ForAllValues');
    }
    expect(parseOperator('Null')).toBeDefined();
    expect(parseOperator('NullIfExists')).toBeUndefined();
    expect(parseOperator('StringEqualz')).toBeUndefined();
  });
});
