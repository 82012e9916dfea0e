import { describe, expect, it } from 'vitest';
import { checkEcsTarget, runTaskRequestOf } from './ecs-target.js';

const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/prod';
const ROLE = 'arn:aws:iam::123456789012:role/events';

describe('an ECS target’s RunTask request', () => {
  it('maps every EcsParameters member to RunTask’s, and the input’s task overrides to overrides', () => {
    const target = {
      Id: 't',
      Arn: CLUSTER,
      RoleArn: ROLE,
      EcsParameters: {
        TaskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/job:4',
        CapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 2, base: 1 }],
        NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-1'], SecurityGroups: ['sg-1'], AssignPublicIp: 'DISABLED' } },
        PlatformVersion: 'LATEST',
        PlacementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
        PropagateTags: 'TASK_DEFINITION',
        ReferenceId: 'ref-1',
        EnableECSManagedTags: true,
      },
    };
    const input = JSON.stringify({ containerOverrides: [{ name: 'app', command: ['run'] }], taskRoleArn: 'arn:aws:iam::123456789012:role/app', cpu: '512', source: 'aws.ecs', detail: {} });
    const rule = 'a-rule-with-a-name-longer-than-the-limit-of-started-by';
    expect(runTaskRequestOf(target, `events-rule/${rule}`, input, 'token-1')).toEqual({
      cluster: CLUSTER,
      taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/job:4',
      count: 1,
      startedBy: `events-rule/${rule}`.slice(0, 36),
      clientToken: 'token-1',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 2, base: 1 }],
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
      platformVersion: 'LATEST',
      placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
      propagateTags: 'TASK_DEFINITION',
      referenceId: 'ref-1',
      enableECSManagedTags: true,
      overrides: { containerOverrides: [{ name: 'app', command: ['run'] }], taskRoleArn: 'arn:aws:iam::123456789012:role/app', cpu: '512' },
    });
  });

  it('the whole event as input (no input set) gives no overrides', () => {
    const target = { Id: 't', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'job' } };
    const request = runTaskRequestOf(target, 'events-rule/r', JSON.stringify({ version: '0', source: 'aws.events', detail: {} }), 'x');
    expect(request.overrides).toBeUndefined();
  });

  it('PutTargets refuses an ECS target without EcsParameters or RoleArn, with both LaunchType and capacity providers, or more than 10 tasks', () => {
    expect(() => checkEcsTarget({ Id: 'a', Arn: CLUSTER, RoleArn: ROLE })).toThrow(/EcsParameters must be specified/);
    expect(() => checkEcsTarget({ Id: 'a', Arn: CLUSTER, EcsParameters: { TaskDefinitionArn: 'x' } })).toThrow(/RoleArn is required/);
    expect(() => checkEcsTarget({ Id: 'a', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x', LaunchType: 'EC2', CapacityProviderStrategy: [{ capacityProvider: 'c' }] } })).toThrow(
      /cannot both be specified/,
    );
    expect(() => checkEcsTarget({ Id: 'a', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x', TaskCount: 11 } })).toThrow(/at most 10/);
  });
});
