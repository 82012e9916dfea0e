import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  ListClustersCommand,
  ListServicesCommand,
  PutAccountSettingDefaultCommand,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

const arn = (name: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/${name}`;

let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

describe('CreateCluster', () => {
  it('creates `default` when no name is given, and is idempotent', async () => {
    const first = await api.ecs.send(new CreateClusterCommand({}));
    expect(first.cluster).toMatchObject({ clusterName: 'default', clusterArn: arn('default'), status: 'ACTIVE', runningTasksCount: 0 });
    const again = await api.ecs.send(new CreateClusterCommand({ clusterName: 'default', tags: [{ key: 'ignored', value: 'x' }] }));
    expect(again.cluster?.clusterArn).toBe(arn('default'));
    expect(again.cluster?.tags).toEqual([]);
  });

  it('stores tags and settings and returns them', async () => {
    const { cluster } = await api.ecs.send(
      new CreateClusterCommand({
        clusterName: 'tagged',
        tags: [{ key: 'team', value: 'a' }],
        settings: [{ name: 'containerInsights', value: 'enabled' }],
      }),
    );
    expect(cluster?.tags).toEqual([{ key: 'team', value: 'a' }]);
    expect(cluster?.settings).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
  });

  it('takes the containerInsights default from the account setting', async () => {
    await api.ecs.send(new PutAccountSettingDefaultCommand({ name: 'containerInsights', value: 'enhanced' }));
    const { cluster } = await api.ecs.send(new CreateClusterCommand({ clusterName: 'insightful' }));
    expect(cluster?.settings).toEqual([{ name: 'containerInsights', value: 'enhanced' }]);
    await api.ecs.send(new PutAccountSettingDefaultCommand({ name: 'containerInsights', value: 'disabled' }));
  });

  it.each([
    ['bad name', { clusterName: 'no spaces' }, /Invalid cluster name 'no spaces'/],
    ['long name', { clusterName: 'x'.repeat(256) }, /Invalid cluster name/],
    ['reserved tag', { clusterName: 'c', tags: [{ key: 'aws:owner', value: 'x' }] }, /reserved/],
    ['duplicate tag', { clusterName: 'c', tags: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }] }, /Duplicate tag key 'k'/],
    ['51 tags', { clusterName: 'c', tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }, /'tags'.*at most 50/],
    ['bad setting', { clusterName: 'c', settings: [{ name: 'containerInsights' as const, value: 'loud' }] }, /Invalid value 'loud'/],
    ['unknown capacity provider', { clusterName: 'c', capacityProviders: ['mine'] }, /capacity provider 'mine' does not exist/],
  ])('refuses %s with InvalidParameterException and creates nothing', async (_label, input, message) => {
    const e = await failure(api.ecs.send(new CreateClusterCommand(input)));
    expect(e).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(e.message).toMatch(message);
    const { failures } = await api.ecs.send(new DescribeClustersCommand({ clusters: ['c'] }));
    expect(failures).toEqual([{ arn: arn('c'), reason: 'MISSING' }]);
  });

  it('accepts the built-in capacity providers with a strategy that uses them', async () => {
    const { cluster } = await api.ecs.send(
      new CreateClusterCommand({
        clusterName: 'cp',
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }],
      }),
    );
    expect(cluster?.capacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
    expect(cluster?.defaultCapacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE', base: 1, weight: 1 }]);
    const e = await failure(
      api.ecs.send(
        new CreateClusterCommand({ clusterName: 'cp2', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }] }),
      ),
    );
    expect(e.name).toBe('InvalidParameterException');
  });
});

describe('DescribeClusters', () => {
  it('describes `default` when no cluster is named, accepts ARNs, and reports unknown ones as MISSING', async () => {
    const implicit = await api.ecs.send(new DescribeClustersCommand({}));
    expect(implicit.clusters?.map((c) => c.clusterName)).toEqual(['default']);
    const { clusters, failures } = await api.ecs.send(
      new DescribeClustersCommand({ clusters: [arn('tagged'), 'nope', 'arn:aws:ecs:eu-west-1:123456789012:cluster/tagged'] }),
    );
    expect(clusters?.map((c) => c.clusterName)).toEqual(['tagged']);
    expect(failures).toEqual([
      { arn: arn('nope'), reason: 'MISSING' },
      { arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/tagged', reason: 'MISSING' },
    ]);
  });

  it('includes tags, settings and statistics only when asked', async () => {
    const plain = await api.ecs.send(new DescribeClustersCommand({ clusters: ['tagged'] }));
    expect(plain.clusters?.[0]).toMatchObject({ settings: [], statistics: [] });
    // ECS leaves tags out unless asked for.
    expect(plain.clusters?.[0]).not.toHaveProperty('tags');
    const full = await api.ecs.send(
      new DescribeClustersCommand({ clusters: ['tagged'], include: ['TAGS', 'SETTINGS', 'STATISTICS'] }),
    );
    const c = full.clusters![0]!;
    expect(c.tags).toEqual([{ key: 'team', value: 'a' }]);
    expect(c.settings).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
    expect(c.statistics).toContainEqual({ name: 'runningEC2TasksCount', value: '0' });
    expect(c.statistics).toContainEqual({ name: 'activeEC2ServiceCount', value: '0' });
  });

  it('refuses more than 100 clusters', async () => {
    const e = await failure(api.ecs.send(new DescribeClustersCommand({ clusters: Array.from({ length: 101 }, (_, i) => `c${i}`) })));
    expect(e.name).toBe('InvalidParameterException');
  });
});

describe('ListClusters', () => {
  it('pages through ACTIVE clusters with maxResults and nextToken', async () => {
    const fixture = await startApiFixture();
    try {
      for (const name of ['a', 'b', 'c', 'd', 'e']) await fixture.ecs.send(new CreateClusterCommand({ clusterName: name }));
      await fixture.ecs.send(new CreateClusterCommand({ clusterName: 'c2' }));
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await fixture.ecs.send(new ListClustersCommand({ maxResults: 2, nextToken }));
        expect(page.clusterArns!.length).toBeLessThanOrEqual(2);
        seen.push(...page.clusterArns!);
        nextToken = page.nextToken;
        pages++;
      } while (nextToken);
      expect(seen).toEqual(['a', 'b', 'c', 'c2', 'd', 'e'].map(arn));
      expect(pages).toBe(3);
      const all = await fixture.ecs.send(new ListClustersCommand({}));
      expect(all.clusterArns).toHaveLength(6);
      expect(all.nextToken).toBeUndefined();
    } finally {
      await fixture.stop();
    }
  });

  it('refuses maxResults outside 1–100 and a forged nextToken', async () => {
    expect((await failure(api.ecs.send(new ListClustersCommand({ maxResults: 0 })))).name).toBe('InvalidParameterException');
    expect((await failure(api.ecs.send(new ListClustersCommand({ maxResults: 101 })))).message).toMatch(/between 1 and 100/);
    const e = await failure(api.ecs.send(new ListClustersCommand({ nextToken: 'garbage' })));
    expect(e).toMatchObject({ name: 'InvalidParameterException' });
  });
});

describe('UpdateCluster and UpdateClusterSettings', () => {
  it('changes settings and configuration', async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'upd' }));
    const s = await api.ecs.send(
      new UpdateClusterSettingsCommand({ cluster: 'upd', settings: [{ name: 'containerInsights', value: 'enabled' }] }),
    );
    expect(s.cluster?.settings).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
    const u = await api.ecs.send(
      new UpdateClusterCommand({
        cluster: arn('upd'),
        configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } },
        settings: [{ name: 'containerInsights', value: 'disabled' }],
      }),
    );
    expect(u.cluster?.configuration).toEqual({ executeCommandConfiguration: { logging: 'DEFAULT' } });
    expect(u.cluster?.settings).toEqual([{ name: 'containerInsights', value: 'disabled' }]);
  });

  it('answers ClusterNotFoundException for unknown clusters and refuses bad values', async () => {
    const e = await failure(api.ecs.send(new UpdateClusterSettingsCommand({ cluster: 'ghost', settings: [] })));
    expect(e).toMatchObject({ name: 'ClusterNotFoundException', message: 'Cluster not found.', status: 400 });
    const bad = await failure(
      api.ecs.send(new UpdateClusterSettingsCommand({ cluster: 'upd', settings: [{ name: 'containerInsights', value: 'on' }] })),
    );
    expect(bad.name).toBe('InvalidParameterException');
  });
});

/** Minimal stored records (the fields their parse functions require), standing in for what the APIs write. */
const instanceRecord = (cluster: string, id: string, status: string) => ({
  cluster, id, ec2InstanceId: `i-${id}`, reserved: {}, instance: { containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/${cluster}/${id}`, status },
});
const taskRecord = (cluster: string, id: string, task: object) => ({
  cluster, id, needs: {}, task: { taskArn: `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/${id}`, ...task },
});
const serviceRecord = (cluster: string, name: string, status: string) => ({
  serviceName: name, serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${name}`, status, berth: { cluster },
});

describe('DeleteCluster', () => {
  it('makes the cluster INACTIVE: still listed and describable, no longer usable, and re-creatable', async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'gone', tags: [{ key: 'k', value: 'v' }] }));
    const { cluster } = await api.ecs.send(new DeleteClusterCommand({ cluster: 'gone' }));
    expect(cluster?.status).toBe('INACTIVE');
    const d = await api.ecs.send(new DescribeClustersCommand({ clusters: ['gone'] }));
    expect(d.clusters?.[0]?.status).toBe('INACTIVE');
    expect((await api.ecs.send(new ListClustersCommand({}))).clusterArns).toContain(arn('gone'));
    expect((await failure(api.ecs.send(new DeleteClusterCommand({ cluster: 'gone' })))).name).toBe('ClusterNotFoundException');
    expect((await failure(api.ecs.send(new ListServicesCommand({ cluster: 'gone' })))).name).toBe('ClusterNotFoundException');
    const again = await api.ecs.send(new CreateClusterCommand({ clusterName: 'gone' }));
    expect(again.cluster).toMatchObject({ status: 'ACTIVE', tags: [] });
  });

  it('keeps listing and describing a deleted cluster for the retention period, then answers MISSING', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    const fixture = await startApiFixture({ now: () => now, inactiveClusterRetentionMs: 60 * 60_000 });
    try {
      await fixture.ecs.send(new CreateClusterCommand({ clusterName: 'old' }));
      await fixture.ecs.send(new CreateClusterCommand({ clusterName: 'kept' }));
      await fixture.ecs.send(new DeleteClusterCommand({ cluster: 'old' }));
      const listed = async () => (await fixture.ecs.send(new ListClustersCommand({}))).clusterArns;
      const described = () => fixture.ecs.send(new DescribeClustersCommand({ clusters: ['old'] }));
      now += 59 * 60_000;
      expect(await listed()).toEqual([arn('kept'), arn('old')]);
      expect((await described()).clusters).toMatchObject([{ clusterName: 'old', status: 'INACTIVE' }]);
      now += 2 * 60_000;
      expect(await listed()).toEqual([arn('kept')]);
      expect(await described()).toMatchObject({ clusters: [], failures: [{ arn: arn('old'), reason: 'MISSING' }] });
    } finally {
      await fixture.stop();
    }
  });

  it.each([
    ['services', 'services/busy/web', serviceRecord('busy', 'web', 'ACTIVE'), 'ClusterContainsServicesException', 'The Cluster cannot be deleted while Services are active.'],
    ['instances', 'instances/busy/i-1', instanceRecord('busy', 'i-1', 'ACTIVE'), 'ClusterContainsContainerInstancesException', 'The Cluster cannot be deleted while Container Instances are active or draining.'],
    ['tasks', 'tasks/busy/t-1', taskRecord('busy', 't-1', { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' }), 'ClusterContainsTasksException', 'The Cluster cannot be deleted while Tasks are active.'],
  ])('refuses while the cluster holds %s', async (_what, key, record, type, message) => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'busy' }));
    // A record in the store stands in for a service, instance or task (services have their own issue).
    await api.server.store.txn([], [{ type: 'put', key, value: JSON.stringify(record) }]);
    try {
      const e = await failure(api.ecs.send(new DeleteClusterCommand({ cluster: 'busy' })));
      expect(e).toMatchObject({ name: type, message });
      const d = await api.ecs.send(new DescribeClustersCommand({ clusters: ['busy'] }));
      expect(d.clusters?.[0]?.status).toBe('ACTIVE');
    } finally {
      await api.server.store.txn([], [{ type: 'delete', key }]);
    }
  });

  it('counts what the cluster holds in DescribeClusters', async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'counted' }));
    const puts = [
      ['instances/counted/i-1', instanceRecord('counted', 'i-1', 'ACTIVE')],
      ['instances/counted/i-2', instanceRecord('counted', 'i-2', 'DRAINING')],
      ['instances/counted/i-3', instanceRecord('counted', 'i-3', 'INACTIVE')],
      ['tasks/counted/t-1', taskRecord('counted', 't-1', { lastStatus: 'RUNNING' })],
      ['tasks/counted/t-2', taskRecord('counted', 't-2', { lastStatus: 'PENDING' })],
      ['tasks/counted/t-3', taskRecord('counted', 't-3', { lastStatus: 'STOPPED' })],
      ['services/counted/s-1', serviceRecord('counted', 's-1', 'ACTIVE')],
    ] as const;
    await api.server.store.txn([], puts.map(([key, v]) => ({ type: 'put', key, value: JSON.stringify(v) })));
    const { clusters } = await api.ecs.send(new DescribeClustersCommand({ clusters: ['counted'], include: ['STATISTICS'] }));
    expect(clusters?.[0]).toMatchObject({
      registeredContainerInstancesCount: 2,
      runningTasksCount: 1,
      pendingTasksCount: 1,
      activeServicesCount: 1,
    });
    expect(clusters?.[0]?.statistics).toContainEqual({ name: 'pendingEC2TasksCount', value: '1' });
  });
});
