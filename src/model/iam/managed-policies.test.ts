import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import { READ_ONLY_ACCESS_VERSION } from './managed/read-only-access.js';
import { MANAGED_POLICIES, managedPolicyByArn } from './managed-policies.js';
import { parsePolicyDocument } from './policy-document.js';
import type { AuthzRequest } from './request-context.js';

const compiled = (name: string) => parsePolicyDocument(MANAGED_POLICIES.get(name)!.document, 'identity');
const req = (action: string, resources: string[] = [], context: Record<string, string> = {}): AuthzRequest => ({
  principal: { arn: 'arn:aws:sts::111122223333:assumed-role/ecsInstanceRole/i-0abc', accountId: '111122223333', type: 'AssumedRole' },
  action,
  resources,
  context: new Map(Object.entries(context)),
});
const effect = (name: string, action: string, resources?: string[], context?: Record<string, string>) => evaluate(req(action, resources, context), [compiled(name)]).effect;

describe('MANAGED_POLICIES', () => {
  it('ships the seven policies ECS users attach, under their real ARNs and paths, each a valid identity policy', () => {
    expect([...MANAGED_POLICIES.keys()].sort()).toEqual([
      'AdministratorAccess',
      'AmazonEC2ContainerRegistryReadOnly',
      'AmazonEC2ContainerServiceforEC2Role',
      'AmazonECSTaskExecutionRolePolicy',
      'AmazonECS_FullAccess',
      'CloudWatchLogsFullAccess',
      'ReadOnlyAccess',
    ]);
    expect(managedPolicyByArn('arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy')?.path).toBe('/service-role/');
    expect(managedPolicyByArn('arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role')?.defaultVersionId).toBe('v10');
    expect(managedPolicyByArn('arn:aws:iam::aws:policy/AdministratorAccess')?.defaultVersionId).toBe('v1');
    for (const p of MANAGED_POLICIES.values()) {
      expect(p.arn).toBe(`arn:aws:iam::aws:policy${p.path}${p.name}`);
      expect(() => parsePolicyDocument(p.document, 'identity')).not.toThrow();
    }
  });

  it('AmazonEC2ContainerServiceforEC2Role: what the agent needs, and not the control-plane calls', () => {
    for (const a of ['ecs:RegisterContainerInstance', 'ecs:DiscoverPollEndpoint', 'ecs:Poll', 'ecs:StartTelemetrySession', 'ecs:SubmitTaskStateChange', 'ecr:GetAuthorizationToken', 'logs:PutLogEvents']) {
      expect(effect('AmazonEC2ContainerServiceforEC2Role', a), a).toBe('Allow');
    }
    expect(effect('AmazonEC2ContainerServiceforEC2Role', 'ecs:RunTask')).toBe('ImplicitDeny');
    expect(effect('AmazonEC2ContainerServiceforEC2Role', 'ecs:ListTagsForResource', ['arn:aws:ecs:us-east-1:111122223333:task/c/abc'])).toBe('Allow');
    expect(effect('AmazonEC2ContainerServiceforEC2Role', 'ecs:ListTagsForResource', ['arn:aws:ecs:us-east-1:111122223333:cluster/c'])).toBe('ImplicitDeny');
    expect(effect('AmazonEC2ContainerServiceforEC2Role', 'ecs:TagResource', [], { 'ecs:CreateAction': 'RegisterContainerInstance' })).toBe('Allow');
    expect(effect('AmazonEC2ContainerServiceforEC2Role', 'ecs:TagResource')).toBe('ImplicitDeny');
  });

  it('AmazonECSTaskExecutionRolePolicy: pulls from ECR and ships logs, nothing else', () => {
    expect(effect('AmazonECSTaskExecutionRolePolicy', 'ecr:BatchGetImage', ['arn:aws:ecr:us-east-1:111122223333:repository/web'])).toBe('Allow');
    expect(effect('AmazonECSTaskExecutionRolePolicy', 'logs:CreateLogStream', ['arn:aws:logs:us-east-1:111122223333:log-group:/ecs/web'])).toBe('Allow');
    expect(effect('AmazonECSTaskExecutionRolePolicy', 'ecr:PutImage')).toBe('ImplicitDeny');
    expect(effect('AmazonECSTaskExecutionRolePolicy', 'secretsmanager:GetSecretValue')).toBe('ImplicitDeny');
  });

  it('AmazonECS_FullAccess: all of ECS, iam:PassRole only to ECS tasks, ECS-optimized AMI parameters only', () => {
    expect(effect('AmazonECS_FullAccess', 'ecs:DeleteCluster', ['arn:aws:ecs:us-east-1:111122223333:cluster/x'])).toBe('Allow');
    const role = ['arn:aws:iam::111122223333:role/app'];
    expect(effect('AmazonECS_FullAccess', 'iam:PassRole', role, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' })).toBe('Allow');
    expect(effect('AmazonECS_FullAccess', 'iam:PassRole', role, { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe('ImplicitDeny');
    expect(effect('AmazonECS_FullAccess', 'ssm:GetParameter', ['arn:aws:ssm:us-east-1:111122223333:parameter/aws/service/ecs/optimized-ami'])).toBe('Allow');
    expect(effect('AmazonECS_FullAccess', 'ssm:GetParameter', ['arn:aws:ssm:us-east-1:111122223333:parameter/db/password'])).toBe('ImplicitDeny');
    expect(effect('AmazonECS_FullAccess', 'iam:CreateUser')).toBe('ImplicitDeny');
  });

  it('ReadOnlyAccess, CloudWatchLogsFullAccess, AmazonEC2ContainerRegistryReadOnly, AdministratorAccess', () => {
    expect(effect('ReadOnlyAccess', 'ecs:DescribeTasks')).toBe('Allow');
    expect(effect('ReadOnlyAccess', 'ecs:RunTask')).toBe('ImplicitDeny');
    expect(effect('ReadOnlyAccess', 'iam:GetRole')).toBe('Allow');
    expect(effect('ReadOnlyAccess', 'secretsmanager:DescribeSecret')).toBe('Allow');
    expect(effect('ReadOnlyAccess', 'secretsmanager:GetSecretValue')).toBe('ImplicitDeny');
    expect(effect('CloudWatchLogsFullAccess', 'logs:DeleteLogGroup')).toBe('Allow');
    expect(effect('CloudWatchLogsFullAccess', 'ecs:ListClusters')).toBe('ImplicitDeny');
    expect(effect('AmazonEC2ContainerRegistryReadOnly', 'ecr:DescribeImages')).toBe('Allow');
    expect(effect('AmazonEC2ContainerRegistryReadOnly', 'ecr:PutImage')).toBe('ImplicitDeny');
    expect(effect('AdministratorAccess', 'iam:CreateUser')).toBe('Allow');
  });

  it("ReadOnlyAccess is AWS's whole v178 document: two statements, 2,677 actions of 305 services, every service's reads", () => {
    const p = MANAGED_POLICIES.get('ReadOnlyAccess')!;
    expect(p.defaultVersionId).toBe('v178');
    expect(p.updateDate).toBe('2026-02-12T18:01:33Z');
    const doc = JSON.parse(p.document) as { Statement: { Sid: string; Action: string[]; Resource: string; Effect: string }[] };
    expect(doc).toEqual(READ_ONLY_ACCESS_VERSION.Document);
    expect(doc.Statement.map((s) => [s.Sid, s.Effect, s.Resource])).toEqual([
      ['ReadOnlyActionsGroup1', 'Allow', '*'],
      ['ReadOnlyActionsGroup2', 'Allow', '*'],
    ]);
    const actions = doc.Statement.flatMap((s) => s.Action);
    expect(actions).toHaveLength(2677);
    expect(new Set(actions.map((a) => a.split(':')[0])).size).toBe(305);
    // Services outside berth's own APIs: the subset berth shipped before had none of these.
    for (const a of ['elasticfilesystem:DescribeFileSystems', 'sqs:GetQueueAttributes', 'scheduler:GetSchedule', 's3:GetObject', 'dynamodb:Query', 'lambda:GetFunction']) {
      expect(effect('ReadOnlyAccess', a), a).toBe('Allow');
    }
    for (const a of ['ecs:DescribeClusters', 'ecs:ListTasks', 'ssm:GetParameter', 'secretsmanager:ListSecrets', 'logs:GetLogEvents', 'sts:GetCallerIdentity']) {
      expect(effect('ReadOnlyAccess', a), a).toBe('Allow');
    }
    // Writes, and the secret values themselves (secretsmanager has Describe*/List*/GetResourcePolicy only).
    for (const a of ['ecs:RunTask', 'ecs:CreateService', 'ssm:PutParameter', 'secretsmanager:GetSecretValue', 'iam:CreateUser', 'sqs:SendMessage', 's3:PutObject', 'scheduler:CreateSchedule']) {
      expect(effect('ReadOnlyAccess', a), a).toBe('ImplicitDeny');
    }
  });
});
