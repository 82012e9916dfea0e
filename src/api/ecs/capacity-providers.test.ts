import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DeleteCapacityProviderCommand,
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  PutClusterCapacityProvidersCommand,
  UpdateCapacityProviderCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

let api: ApiFixture;
const providerArn = (name: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:capacity-provider/${name}`;

beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'cp' }));
});
afterAll(() => api.stop());

describe('DescribeCapacityProviders', () => {
  it('shows the built-in FARGATE and FARGATE_SPOT, and the names it does not know as MISSING failures', async () => {
    const all = await api.ecs.send(new DescribeCapacityProvidersCommand({}));
    expect(all.capacityProviders).toEqual([
      { capacityProviderArn: providerArn('FARGATE'), name: 'FARGATE', status: 'ACTIVE' },
      { capacityProviderArn: providerArn('FARGATE_SPOT'), name: 'FARGATE_SPOT', status: 'ACTIVE' },
    ]);
    const some = await api.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: [providerArn('FARGATE_SPOT'), 'mine'], include: ['TAGS'] }));
    expect(some.capacityProviders).toEqual([{ capacityProviderArn: providerArn('FARGATE_SPOT'), name: 'FARGATE_SPOT', status: 'ACTIVE', tags: [] }]);
    expect(some.failures).toEqual([{ arn: providerArn('mine'), reason: 'MISSING' }]);
  });
});

describe('PutClusterCapacityProviders', () => {
  it('replaces the cluster’s providers and default strategy', async () => {
    const { cluster } = await api.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: 'cp',
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }],
      }),
    );
    expect(cluster).toMatchObject({ clusterName: 'cp', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] });
    const described = (await api.ecs.send(new DescribeClustersCommand({ clusters: ['cp'] }))).clusters![0]!;
    expect(described.defaultCapacityProviderStrategy).toEqual([
      { capacityProvider: 'FARGATE', base: 1, weight: 1 },
      { capacityProvider: 'FARGATE_SPOT', weight: 3 },
    ]);
    await api.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'cp', capacityProviders: [], defaultCapacityProviderStrategy: [] }));
    expect((await api.ecs.send(new DescribeClustersCommand({ clusters: ['cp'] }))).clusters![0]!.capacityProviders).toEqual([]);
  });

  it.each([
    ['an unknown provider', { capacityProviders: ['mine'], defaultCapacityProviderStrategy: [] }, /capacity provider 'mine' does not exist/],
    ['a strategy naming a provider not listed', { capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }, /capacity provider that is not associated with the cluster/],
  ])('refuses %s and changes nothing', async (_label, input, message) => {
    const e = await failure(api.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'cp', ...input })));
    expect(e).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(message) });
    expect((await api.ecs.send(new DescribeClustersCommand({ clusters: ['cp'] }))).clusters![0]!.capacityProviders).toEqual([]);
  });

  it('refuses an unknown cluster', async () => {
    const e = await failure(api.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'ghost', capacityProviders: [], defaultCapacityProviderStrategy: [] })));
    expect(e).toMatchObject({ name: 'ClusterNotFoundException' });
  });
});

describe('custom capacity providers over the wire (the rules: capacity-providers-asg.test.ts)', () => {
  it('CreateCapacityProvider refuses reserved names and a group that does not exist', async () => {
    const create = await failure(
      api.ecs.send(new CreateCapacityProviderCommand({ name: 'asg', autoScalingGroupProvider: { autoScalingGroupArn: 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x' } })),
    );
    expect(create).toMatchObject({ name: 'ClientException', status: 400, message: expect.stringMatching(/does not exist/) });
    const reserved = await failure(api.ecs.send(new CreateCapacityProviderCommand({ name: 'FARGATE', autoScalingGroupProvider: { autoScalingGroupArn: 'x' } })));
    expect(reserved).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/can't be prefixed with "aws", "ecs", or "fargate"/) });
  });

  it('UpdateCapacityProvider and DeleteCapacityProvider find no such provider; the built-in ones are reserved', async () => {
    expect(await failure(api.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'FARGATE' })))).toMatchObject({
      name: 'ClientException',
      message: expect.stringMatching(/reserved and cannot be deleted/),
    });
    expect(await failure(api.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'mine' })))).toMatchObject({
      name: 'ClientException',
      message: expect.stringMatching(/'mine' does not exist/),
    });
    expect(await failure(api.ecs.send(new UpdateCapacityProviderCommand({ name: 'mine', autoScalingGroupProvider: {} })))).toMatchObject({ name: 'ClientException' });
  });
});
