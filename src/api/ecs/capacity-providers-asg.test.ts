import { describe, expect, it } from 'vitest';
import { refusal } from '../../testing/failure.js';
import { hostGroupsService } from '../../hostgroups/host-groups-service.js';
import { checkedCalls } from '../../hostgroups/testing/checked-calls.js';
import { keys } from '../../state/keys.js';
import { pruneExpiredProviders } from '../../state/capacity-providers.js';
import { launchTasksInTx } from '../../state/task-launch.js';
import { transact } from '../../store/transact.js';
import { checkRemovable } from './cluster-capacity.js';
import { MemoryStore } from '../../store/memory.js';
import { capacityProviderOperations } from './capacity-providers.js';
import { clusterOperations } from './clusters.js';
import type { EcsEnv } from './env.js';
import { serviceOperations } from './services.js';
import { tagOperations } from './tags.js';
import { taskDefinitionOperations } from './task-definitions.js';

/** Capacity providers of Auto Scaling groups over a memory store, with host groups made through their own API. */
async function harness() {
  const store = new MemoryStore();
  const scope = { region: 'eu-west-1', accountId: '123456789012' };
  let now = 1_700_000_000_000;
  const groups = checkedCalls(hostGroupsService({ store, scope, now: () => now }));
  const env = { store, scope, now: () => now, cache: undefined as never } satisfies EcsEnv;
  const ops = { ...capacityProviderOperations(env), ...clusterOperations(env), ...tagOperations(env), ...taskDefinitionOperations(env), ...serviceOperations(env) };
  await groups('CreateLaunchConfiguration', { LaunchConfigurationName: 'hosts', ImageId: 'netns', InstanceType: 'berth.small' });
  for (const [name, protectedHosts] of [['web', false], ['batch', true], ['spare', false]] as const) {
    await groups('CreateAutoScalingGroup', {
      AutoScalingGroupName: name,
      LaunchConfigurationName: 'hosts',
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 0,
      AvailabilityZones: ['eu-west-1a'],
      NewInstancesProtectedFromScaleIn: protectedHosts,
    });
  }
  const groupArn = async (name: string): Promise<string> =>
    (await groups('DescribeAutoScalingGroups', { AutoScalingGroupNames: [name] })).AutoScalingGroups[0].AutoScalingGroupARN;
  return { store, ops, groups, groupArn, env, advance: (ms: number) => (now += ms) };
}

const arnOf = (name: string) => `arn:aws:ecs:eu-west-1:123456789012:capacity-provider/${name}`;

describe('CreateCapacityProvider', () => {
  it('records the group’s provider with ECS’s defaults, by the group’s ARN or name', async () => {
    const h = await harness();
    const web = await h.groupArn('web');
    const { capacityProvider } = await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: web }, tags: [{ key: 'team', value: 'blue' }] });
    expect(capacityProvider).toEqual({
      capacityProviderArn: arnOf('web-cp'),
      name: 'web-cp',
      status: 'ACTIVE',
      autoScalingGroupProvider: {
        autoScalingGroupArn: web,
        managedScaling: { status: 'DISABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10000, instanceWarmupPeriod: 300 },
        managedTerminationProtection: 'DISABLED',
        managedDraining: 'ENABLED',
      },
      tags: [{ key: 'team', value: 'blue' }],
    });
    const byName = await h.ops.CreateCapacityProvider({
      name: 'batch-cp',
      autoScalingGroupProvider: { autoScalingGroupArn: 'batch', managedScaling: { status: 'ENABLED', targetCapacity: 80 }, managedTerminationProtection: 'ENABLED' },
    });
    expect(byName.capacityProvider.autoScalingGroupProvider).toMatchObject({
      autoScalingGroupArn: await h.groupArn('batch'),
      managedScaling: { status: 'ENABLED', targetCapacity: 80, minimumScalingStepSize: 1, maximumScalingStepSize: 10000, instanceWarmupPeriod: 300 },
      managedTerminationProtection: 'ENABLED',
    });
  });

  it.each([
    ['a reserved prefix', { name: 'ecs-web' }, 'InvalidParameterException', /can't be prefixed with "aws", "ecs", or "fargate"/],
    ['a FARGATE name', { name: 'FARGATE' }, 'InvalidParameterException', /can't be prefixed/],
    ['a bad character', { name: 'web cp' }, 'InvalidParameterException', /Up to 255 characters/],
    ['an unknown group', { autoScalingGroupProvider: { autoScalingGroupArn: 'nope' } }, 'ClientException', /Auto Scaling group 'nope' does not exist/],
    [
      'an ARN of another group of that name',
      { autoScalingGroupProvider: { autoScalingGroupArn: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/web' } },
      'ClientException',
      /does not exist/,
    ],
    ['termination protection on an unprotected group', { autoScalingGroupProvider: { autoScalingGroupArn: 'web', managedTerminationProtection: 'ENABLED' } }, 'ClientException', /instance protection from scale in/],
    ['a target capacity of 0', { autoScalingGroupProvider: { autoScalingGroupArn: 'web', managedScaling: { targetCapacity: 0 } } }, 'InvalidParameterException', /targetCapacity must be an integer between 1 and 100/],
    [
      'a minimum step above the maximum',
      { autoScalingGroupProvider: { autoScalingGroupArn: 'web', managedScaling: { minimumScalingStepSize: 5, maximumScalingStepSize: 2 } } },
      'InvalidParameterException',
      /minimumScalingStepSize \(5\) can't be greater than maximumScalingStepSize \(2\)/,
    ],
    ['Managed Instances', { managedInstancesProvider: {} }, 'UnsupportedFeatureException', /Managed Instances/],
  ])('refuses %s, creating nothing', async (_label, change, type, message) => {
    const h = await harness();
    const input = { name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web' }, ...change };
    expect(await refusal(h.ops.CreateCapacityProvider(input as never))).toMatchObject({ type, message: expect.stringMatching(message) });
    expect((await h.ops.DescribeCapacityProviders({})).capacityProviders.map((p) => p.name)).toEqual(['FARGATE', 'FARGATE_SPOT']);
  });

  it('refuses a second provider of the same name or of the same group', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web' } });
    expect(await refusal(h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'spare' } }))).toMatchObject({
      type: 'ClientException',
      message: expect.stringMatching(/already exists/),
    });
    expect(await refusal(h.ops.CreateCapacityProvider({ name: 'other', autoScalingGroupProvider: { autoScalingGroupArn: 'web' } }))).toMatchObject({
      type: 'ClientException',
      message: expect.stringMatching(/already in use by the capacity provider 'web-cp'/),
    });
  });
});

describe('DescribeCapacityProviders, UpdateCapacityProvider, tags', () => {
  it('lists built-in and created providers with paging, TAGS on request, MISSING failures', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web' }, tags: [{ key: 'k', value: 'v' }] });
    await h.ops.CreateCapacityProvider({ name: 'spare-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'spare' } });
    const first = await h.ops.DescribeCapacityProviders({ maxResults: 2 });
    expect(first.capacityProviders.map((p) => p.name)).toEqual(['FARGATE', 'FARGATE_SPOT']);
    const second = await h.ops.DescribeCapacityProviders({ maxResults: 2, nextToken: first.nextToken! });
    expect(second.capacityProviders.map((p) => p.name)).toEqual(['spare-cp', 'web-cp']);
    expect(second.nextToken).toBeUndefined();
    expect(second.capacityProviders[1]).not.toHaveProperty('tags');
    const some = await h.ops.DescribeCapacityProviders({ capacityProviders: [arnOf('web-cp'), 'ghost'], include: ['TAGS'] });
    expect(some.capacityProviders).toMatchObject([{ name: 'web-cp', tags: [{ key: 'k', value: 'v' }] }]);
    expect(some.failures).toEqual([{ arn: arnOf('ghost'), reason: 'MISSING' }]);

    await h.ops.TagResource({ resourceArn: arnOf('web-cp'), tags: [{ key: 'env', value: 'prod' }] });
    await h.ops.UntagResource({ resourceArn: arnOf('web-cp'), tagKeys: ['k'] });
    expect((await h.ops.ListTagsForResource({ resourceArn: arnOf('web-cp') })).tags).toEqual([{ key: 'env', value: 'prod' }]);
    expect(await refusal(h.ops.TagResource({ resourceArn: arnOf('ghost'), tags: [{ key: 'a', value: 'b' }] }))).toMatchObject({ type: 'ClientException' });
  });

  it('updates what is given, keeps the rest, and checks the group again', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web', managedScaling: { status: 'ENABLED', targetCapacity: 90 } } });
    const { capacityProvider } = await h.ops.UpdateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { managedScaling: { maximumScalingStepSize: 3 }, managedDraining: 'DISABLED' } });
    expect(capacityProvider).toMatchObject({
      status: 'ACTIVE',
      updateStatus: 'UPDATE_COMPLETE',
      autoScalingGroupProvider: { managedScaling: { status: 'ENABLED', targetCapacity: 90, maximumScalingStepSize: 3 }, managedDraining: 'DISABLED' },
    });
    expect(await refusal(h.ops.UpdateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { managedTerminationProtection: 'ENABLED' } }))).toMatchObject({
      type: 'ClientException',
      message: expect.stringMatching(/instance protection from scale in/),
    });
    expect(await refusal(h.ops.UpdateCapacityProvider({ name: 'FARGATE', autoScalingGroupProvider: {} }))).toMatchObject({ message: expect.stringMatching(/reserved/) });
    expect(await refusal(h.ops.UpdateCapacityProvider({ name: 'ghost', autoScalingGroupProvider: {} }))).toMatchObject({ type: 'ClientException', message: expect.stringMatching(/'ghost' does not exist/) });
  });
});

describe('clusters and DeleteCapacityProvider', () => {
  it('associates providers with a cluster, refuses mixed or foreign strategies, shows the scaling attachment', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web', managedScaling: { status: 'ENABLED' } } });
    await h.ops.CreateCapacityProvider({ name: 'spare-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'spare' } });
    await h.ops.CreateCluster({ clusterName: 'c', capacityProviders: ['web-cp'], defaultCapacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }] });
    const refusals = [
      { capacityProviders: ['web-cp', 'FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }, { capacityProvider: 'FARGATE', weight: 1 }] },
      { capacityProviders: ['web-cp'], defaultCapacityProviderStrategy: [{ capacityProvider: 'spare-cp', weight: 1 }] },
      { capacityProviders: ['ghost'], defaultCapacityProviderStrategy: [] },
    ];
    const messages = [/mix of capacity providers using Auto Scaling groups and Fargate/, /not associated with the cluster/, /'ghost' does not exist/];
    for (const [i, input] of refusals.entries()) {
      expect(await refusal(h.ops.PutClusterCapacityProviders({ cluster: 'c', ...input }))).toMatchObject({ type: 'InvalidParameterException', message: expect.stringMatching(messages[i]!) });
    }
    const { clusters } = await h.ops.DescribeClusters({ clusters: ['c'], include: ['ATTACHMENTS'] });
    expect(clusters[0]).toMatchObject({ capacityProviders: ['web-cp'], defaultCapacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }], attachmentsStatus: 'UPDATE_COMPLETE' });
    expect(clusters[0]!.attachments).toEqual([
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: 'as_policy', status: 'CREATED', details: [{ name: 'capacityProviderName', value: 'web-cp' }, { name: 'scalingPolicyName', value: expect.stringMatching(/^ECSManagedAutoScalingPolicy-/) }] },
    ]);
  });

  it('refuses to delete a provider a cluster has, or to take off one a task uses; deletes it once free', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web' } });
    await h.ops.CreateCluster({ clusterName: 'c', capacityProviders: ['web-cp'], defaultCapacityProviderStrategy: [] });
    expect(await refusal(h.ops.DeleteCapacityProvider({ capacityProvider: 'web-cp' }))).toMatchObject({
      type: 'ClientException',
      message: 'The capacity provider cannot be deleted because it is associated with cluster: c. Remove the capacity provider from the cluster and try again.',
    });
    // A task waiting on the provider keeps it on the cluster.
    const task = { cluster: 'c', id: 't1', task: { taskArn: 'arn:t1', lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', capacityProviderName: 'web-cp' }, needs: { cpu: 0, memory: 0, ports: [], portsUdp: [] } };
    await h.store.txn([], [{ type: 'put', key: keys.task('c', 't1'), value: JSON.stringify(task) }]);
    expect(await refusal(h.ops.PutClusterCapacityProviders({ cluster: 'c', capacityProviders: [], defaultCapacityProviderStrategy: [] }))).toEqual({
      type: 'ResourceInUseException',
      message: 'The specified capacity provider is in use and cannot be removed.',
    });
    await h.store.txn([], [{ type: 'put', key: keys.task('c', 't1'), value: JSON.stringify({ ...task, task: { ...task.task, lastStatus: 'STOPPED' } }) }]);
    await h.ops.PutClusterCapacityProviders({ cluster: 'c', capacityProviders: [], defaultCapacityProviderStrategy: [] });
    const { capacityProvider } = await h.ops.DeleteCapacityProvider({ capacityProvider: arnOf('web-cp') });
    expect(capacityProvider).toMatchObject({ name: 'web-cp', status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE' });
    // Shown INACTIVE for a while; its group can serve a new provider at once.
    expect((await h.ops.DescribeCapacityProviders({ capacityProviders: ['web-cp'] })).capacityProviders).toMatchObject([{ status: 'INACTIVE' }]);
    await h.ops.CreateCapacityProvider({ name: 'web-cp2', autoScalingGroupProvider: { autoScalingGroupArn: 'web' } });
    h.advance(61 * 60_000);
    expect((await h.ops.DescribeCapacityProviders({ capacityProviders: ['web-cp'] })).failures).toEqual([{ arn: arnOf('web-cp'), reason: 'MISSING' }]);
    expect(await refusal(h.ops.DeleteCapacityProvider({ capacityProvider: 'web-cp' }))).toMatchObject({ type: 'ClientException', message: expect.stringMatching(/does not exist/) });
  });
});

describe('services with a capacity provider strategy', () => {
  const call = { principal: { arn: 'arn:aws:iam::123456789012:root' } } as never;
  it('records the strategy on the service and its deployment (no launch type); a new strategy is a new deployment; ECS’s refusals', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web' } });
    await h.ops.CreateCapacityProvider({ name: 'spare-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'spare' } });
    await h.ops.CreateCluster({ clusterName: 'c', capacityProviders: ['web-cp', 'spare-cp'], defaultCapacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }] });
    await h.ops.RegisterTaskDefinition({ family: 'app', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }, call);
    const base = { cluster: 'c', taskDefinition: 'app', desiredCount: 1 };
    const refusals: [object, RegExp][] = [
      [{ launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }] }, /Specifying both a launch type and capacity provider strategy/],
      // (A Fargate strategy runs the service on the Fargate pool: its task definition must be Fargate's.)
      [{ capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }, /Task definition does not support launch_type FARGATE/],
      [{ capacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }], platformVersion: 'LATEST' }, /The platform version must be null when specifying an EC2 launch type/],
      [{ capacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }, { capacityProvider: 'FARGATE', weight: 1 }] }, /mix of capacity providers/],
      [{ capacityProviderStrategy: [{ capacityProvider: 'ghost', weight: 1 }] }, /not associated with the cluster/],
      [{ schedulingStrategy: 'DAEMON', desiredCount: undefined, capacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }] }, /DAEMON/],
    ];
    for (const [i, [extra, message]] of refusals.entries()) {
      expect(await refusal(h.ops.CreateService({ ...base, serviceName: `bad${i}`, ...extra } as never, call))).toMatchObject({ type: 'InvalidParameterException', message: expect.stringMatching(message) });
    }
    // Neither a strategy nor a launch type: the cluster's default strategy.
    const { service } = await h.ops.CreateService({ ...base, serviceName: 'web' }, call);
    expect(service).toMatchObject({ capacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }], deployments: [{ capacityProviderStrategy: [{ capacityProvider: 'web-cp', weight: 1 }] }] });
    expect(service!.launchType).toBeUndefined();
    expect(service!.deployments![0]!.launchType).toBeUndefined();
    const ec2 = await h.ops.CreateService({ ...base, serviceName: 'ec2', launchType: 'EC2' }, call);
    expect(ec2.service).toMatchObject({ launchType: 'EC2' });
    expect(ec2.service!.capacityProviderStrategy).toBeUndefined();

    // As ECS: changing a service's strategy (or moving a launch type's service to one) needs forceNewDeployment.
    const change = { cluster: 'c', capacityProviderStrategy: [{ capacityProvider: 'spare-cp', weight: 1 }] };
    for (const service of ['web', 'ec2']) {
      expect(await refusal(h.ops.UpdateService({ ...change, service }))).toEqual({
        type: 'InvalidParameterException',
        message:
          'When switching from launch type to capacity provider strategy on an existing service, or making a change to a capacity provider strategy on a service that is already using one, you must force a new deployment.',
      });
    }
    const updated = await h.ops.UpdateService({ ...change, service: 'web', forceNewDeployment: true });
    expect(updated.service).toMatchObject({ capacityProviderStrategy: [{ capacityProvider: 'spare-cp', weight: 1 }] });
    expect(updated.service!.deployments!.map((d) => [d.status, d.capacityProviderStrategy?.[0]?.capacityProvider])).toEqual([
      ['PRIMARY', 'spare-cp'],
      ['ACTIVE', 'web-cp'],
    ]);
    // The providers in use stay on the cluster and cannot be deleted.
    expect(await refusal(h.ops.PutClusterCapacityProviders({ cluster: 'c', capacityProviders: ['web-cp'], defaultCapacityProviderStrategy: [] }))).toMatchObject({ type: 'ResourceInUseException' });
  });
});

describe('a provider whose group is deleted, pruning, and the in-use check', () => {
  it('goes INACTIVE / DELETE_COMPLETE with the reason when its Auto Scaling group is deleted; refused in strategies from then on', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'spare-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'spare' } });
    await h.groups('DeleteAutoScalingGroup', { AutoScalingGroupName: 'spare' });
    const { capacityProviders } = await h.ops.DescribeCapacityProviders({ capacityProviders: ['spare-cp'] });
    expect(capacityProviders![0]).toMatchObject({
      status: 'INACTIVE',
      updateStatus: 'DELETE_COMPLETE',
      updateStatusReason: 'The Auto Scaling group spare of the capacity provider was deleted.',
    });
    expect(await refusal(h.ops.CreateCluster({ clusterName: 'c', capacityProviders: ['spare-cp'] }))).toMatchObject({ type: 'InvalidParameterException' });
    // The name is free again (a new provider may take it) and so would be a new group of that name.
    await h.groups('CreateAutoScalingGroup', { AutoScalingGroupName: 'spare', LaunchConfigurationName: 'hosts', MinSize: 0, MaxSize: 1, AvailabilityZones: ['eu-west-1a'] });
    expect((await h.ops.CreateCapacityProvider({ name: 'spare-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'spare' } })).capacityProvider!.status).toBe('ACTIVE');
  });

  it('shows a deleted provider for an hour, then the leader removes its record', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web' } });
    await h.ops.DeleteCapacityProvider({ capacityProvider: 'web-cp' });
    h.advance(59 * 60_000);
    expect(await pruneExpiredProviders(h.store, h.env.now())).toBe(0);
    expect((await h.ops.DescribeCapacityProviders({ capacityProviders: ['web-cp'] })).capacityProviders![0]!.status).toBe('INACTIVE');
    h.advance(60_000);
    expect(await pruneExpiredProviders(h.store, h.env.now())).toBe(1);
    expect(await h.store.get('capacity-providers/items/web-cp')).toBeUndefined();
    expect((await h.ops.DescribeCapacityProviders({ capacityProviders: ['web-cp'] })).failures).toHaveLength(1);
  });

  it('PutClusterCapacityProviders sees a launch on the provider that commits during its transaction, and refuses', async () => {
    const h = await harness();
    await h.ops.CreateCapacityProvider({ name: 'web-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'web' } });
    await h.ops.CreateCluster({ clusterName: 'c', capacityProviders: ['web-cp'] });
    await h.ops.RegisterTaskDefinition({ family: 'app', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }, { principal: { arn: 'arn:aws:iam::123456789012:root' } } as never);
    const td = (await h.ops.DescribeTaskDefinition({ taskDefinition: 'app' })).taskDefinition!;
    const placement = { capacityProvider: 'web-cp', since: 0, constraints: [], strategies: [], requiredAttributes: [] };
    const spec = {
      cluster: 'c',
      td,
      propagatedTags: [],
      tags: [],
      overrides: {},
      group: 'family:app',
      needs: { cpu: 0, memory: 64, ports: [], portsUdp: [] },
      capacityProvider: { name: 'web-cp', waiting: 1, placement },
    };
    let attempts = 0;
    const removal = transact(h.store, async (tx) => {
      attempts++;
      await checkRemovable(tx, 'c', ['web-cp']);
      // A RunTask on the provider commits between the check and this transaction's commit (first attempt only).
      if (attempts === 1) await transact(h.store, (launch) => launchTasksInTx(h.env, launch, spec, []));
      tx.put('probe/after-check', 'x');
    });
    expect(await refusal(removal)).toEqual({ type: 'ResourceInUseException', message: 'The specified capacity provider is in use and cannot be removed.' });
    expect(attempts).toBe(2);
    // The other order: the provider taken off first, a launch decided before it is refused on its retry.
    await h.ops.CreateCapacityProvider({ name: 'spare-cp', autoScalingGroupProvider: { autoScalingGroupArn: 'spare' } });
    await h.ops.PutClusterCapacityProviders({ cluster: 'c', capacityProviders: ['web-cp', 'spare-cp'], defaultCapacityProviderStrategy: [] });
    await h.ops.PutClusterCapacityProviders({ cluster: 'c', capacityProviders: ['web-cp'], defaultCapacityProviderStrategy: [] });
    const late = { ...spec, capacityProvider: { ...spec.capacityProvider, name: 'spare-cp' } };
    expect(await refusal(transact(h.store, (tx) => launchTasksInTx(h.env, tx, late, [])))).toMatchObject({ type: 'InvalidParameterException', message: expect.stringContaining('not associated with the cluster') });
  });
});
