import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import type { HostGroupEnv } from './env.js';
import { hostGroupsService } from './host-groups-service.js';
import { hostGroupActions } from './iam-actions.js';
import { checkedCalls } from './testing/checked-calls.js';
import { refusal } from '../testing/failure.js';

/** The operations over a memory store, with a clock the test moves. */
function harness(env: Partial<HostGroupEnv> = {}) {
  const store = new MemoryStore();
  let now = 1_700_000_000_000;
  const service = hostGroupsService({ store, scope: { region: 'eu-west-1', accountId: '123456789012' }, now: () => now, ...env });
  const call = checkedCalls(service);
  return { store, call, service, advance: (ms: number) => (now += ms) };
}


const LC = { LaunchConfigurationName: 'hosts', ImageId: 'command:lab', InstanceType: 'berth.small', UserData: Buffer.from('#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n').toString('base64') };
const GROUP = { AutoScalingGroupName: 'web', LaunchConfigurationName: 'hosts', MinSize: 0, MaxSize: 4, DesiredCapacity: 2, AvailabilityZones: ['eu-west-1a', 'eu-west-1b'] };

describe('host group operations', () => {
  it('declares every served operation for IAM', () => {
    expect(Object.keys(harness().service.operations).sort()).toEqual(Object.keys(hostGroupActions).sort());
  });

  it('creates, describes and deletes launch configurations, naming the field on bad input', async () => {
    const h = harness();
    await h.call('CreateLaunchConfiguration', LC);
    const [lc] = (await h.call('DescribeLaunchConfigurations', {})).LaunchConfigurations;
    expect(lc).toMatchObject({ LaunchConfigurationName: 'hosts', ImageId: 'command:lab', InstanceType: 'berth.small', UserData: LC.UserData });
    expect(lc.LaunchConfigurationARN).toMatch(/^arn:aws:autoscaling:eu-west-1:123456789012:launchConfiguration:[0-9a-f-]{36}:launchConfigurationName\/hosts$/);
    expect(await refusal(h.call('CreateLaunchConfiguration', LC))).toMatchObject({ type: 'AlreadyExists' });
    expect(await refusal(h.call('CreateLaunchConfiguration', { ...LC, LaunchConfigurationName: 'x', InstanceType: 'm5.large' }))).toMatchObject({
      type: 'ValidationError',
      message: expect.stringMatching(/^InstanceType: 'm5.large' is not a berth size/),
    });
    expect(await refusal(h.call('CreateLaunchConfiguration', { ...LC, LaunchConfigurationName: 'x', ImageId: 'ami-123' }))).toMatchObject({
      type: 'ValidationError',
      message: expect.stringMatching(/^ImageId: /),
    });
    expect(await refusal(h.call('CreateLaunchConfiguration', { ...LC, LaunchConfigurationName: 'x', KeyName: 'k' }))).toMatchObject({ message: expect.stringMatching(/^KeyName: /) });
    await h.call('CreateAutoScalingGroup', GROUP);
    expect(await refusal(h.call('DeleteLaunchConfiguration', { LaunchConfigurationName: 'hosts' }))).toMatchObject({ type: 'ResourceInUse', message: expect.stringContaining('web') });
    expect(await refusal(h.call('DeleteLaunchConfiguration', { LaunchConfigurationName: 'nope' }))).toMatchObject({ type: 'ValidationError' });
  });

  it('checks provisioners and quotas', async () => {
    const h = harness({ provisionerProblem: (id) => (id === 'netns' ? undefined : `'${id}' names no configured provisioner`), limits: { launchConfigurations: 1 } });
    expect(await refusal(h.call('CreateLaunchConfiguration', LC))).toEqual({ type: 'ValidationError', message: "ImageId: 'command:lab' names no configured provisioner" });
    await h.call('CreateLaunchConfiguration', { ...LC, ImageId: 'netns' });
    expect(await refusal(h.call('CreateLaunchConfiguration', { ...LC, ImageId: 'netns', LaunchConfigurationName: 'two' }))).toMatchObject({ type: 'LimitExceeded' });
  });

  it('creates a group with sizes, zones and tags; updates and sets its desired capacity within its bounds', async () => {
    const h = harness();
    await h.call('CreateLaunchConfiguration', LC);
    await h.call('CreateAutoScalingGroup', { ...GROUP, Tags: [{ Key: 'team', Value: 'blue', PropagateAtLaunch: true }] });
    expect(await refusal(h.call('CreateAutoScalingGroup', GROUP))).toMatchObject({ type: 'AlreadyExists' });
    const [g] = (await h.call('DescribeAutoScalingGroups', { AutoScalingGroupNames: ['web'] })).AutoScalingGroups;
    expect(g).toMatchObject({
      AutoScalingGroupName: 'web',
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 2,
      AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
      HealthCheckType: 'EC2',
      Instances: [],
      Tags: [{ ResourceId: 'web', ResourceType: 'auto-scaling-group', Key: 'team', Value: 'blue', PropagateAtLaunch: true }],
    });
    const filtered = (filters: object[]) => h.call('DescribeAutoScalingGroups', { Filters: filters }).then((r) => r.AutoScalingGroups.map((x: { AutoScalingGroupName: string }) => x.AutoScalingGroupName));
    expect(await filtered([{ Name: 'tag:team', Values: ['blue', 'red'] }])).toEqual(['web']);
    expect(await filtered([{ Name: 'tag:team', Values: ['red'] }])).toEqual([]);
    expect(await filtered([{ Name: 'tag-key', Values: ['team'] }, { Name: 'tag-value', Values: ['blue'] }])).toEqual(['web']);
    expect(await refusal(h.call('DescribeAutoScalingGroups', { Filters: [{ Name: 'instance-type', Values: ['x'] }] }))).toMatchObject({ message: expect.stringMatching(/^Filters: 'instance-type'/) });
    expect(await refusal(h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web', DesiredCapacity: 5 }))).toMatchObject({
      type: 'ValidationError',
      message: expect.stringMatching(/^DesiredCapacity: .*above max value 4/),
    });
    expect(await refusal(h.call('CreateAutoScalingGroup', { ...GROUP, AutoScalingGroupName: 'b', MinSize: 3, MaxSize: 2 }))).toMatchObject({ message: expect.stringMatching(/^MinSize: /) });
    expect(await refusal(h.call('CreateAutoScalingGroup', { ...GROUP, AutoScalingGroupName: 'b', LaunchTemplate: { LaunchTemplateName: 'tmpl' } }))).toMatchObject({
      message: expect.stringMatching(/^LaunchTemplate: /),
    });
    expect(await refusal(h.call('CreateAutoScalingGroup', { ...GROUP, AutoScalingGroupName: 'b', AvailabilityZones: ['mars'] }))).toMatchObject({ message: expect.stringMatching(/^AvailabilityZones: /) });
    expect(await refusal(h.call('CreateAutoScalingGroup', { ...GROUP, AutoScalingGroupName: 'b', LaunchConfigurationName: 'nope' }))).toMatchObject({ type: 'ValidationError' });
    // A new maximum below the desired capacity lowers it, as Auto Scaling does.
    h.advance(1_000);
    await h.call('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web', MaxSize: 1 });
    expect((await h.call('DescribeAutoScalingGroups', {})).AutoScalingGroups[0]).toMatchObject({ MaxSize: 1, DesiredCapacity: 1 });
    const activities = (await h.call('DescribeScalingActivities', { AutoScalingGroupName: 'web' })).Activities;
    expect(activities.map((a: { Description: string }) => a.Description)).toEqual(['Setting desired capacity of web from 2 to 1', 'Setting desired capacity of web from 0 to 2']);
    expect(await refusal(h.call('DescribeScalingActivities', { AutoScalingGroupName: 'nope' }))).toMatchObject({ type: 'ValidationError' });
  });

  it('deletes an empty group at once, refuses one with instances unless forced, and pages with NextToken', async () => {
    const h = harness();
    await h.call('CreateLaunchConfiguration', LC);
    for (const name of ['a', 'b', 'c']) await h.call('CreateAutoScalingGroup', { ...GROUP, AutoScalingGroupName: name, DesiredCapacity: 0 });
    const first = await h.call('DescribeAutoScalingGroups', { MaxRecords: 2 });
    expect(first.AutoScalingGroups.map((g: { AutoScalingGroupName: string }) => g.AutoScalingGroupName)).toEqual(['a', 'b']);
    const second = await h.call('DescribeAutoScalingGroups', { MaxRecords: 2, NextToken: first.NextToken });
    expect(second.AutoScalingGroups.map((g: { AutoScalingGroupName: string }) => g.AutoScalingGroupName)).toEqual(['c']);
    expect(await refusal(h.call('DescribeAutoScalingGroups', { NextToken: 'garbage' }))).toMatchObject({ type: 'InvalidNextToken' });
    for (const name of ['a', 'b', 'c']) await h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: name });
    expect((await h.call('DescribeAutoScalingGroups', {})).AutoScalingGroups).toEqual([]);
    await h.call('DeleteLaunchConfiguration', { LaunchConfigurationName: 'hosts' });
  });
});
