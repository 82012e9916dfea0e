import { describe, expect, it } from 'vitest';
import { FARGATE_POOL_ATTRIBUTE } from '../model/fargate-pool.js';
import { keys } from '../state/keys.js';
import { MemoryStore } from '../store/memory.js';
import { transact } from '../store/transact.js';
import { insightsEnabled, publishInsightsMinute } from './container-insights.js';
import type { Sample } from './metric-store.js';

const T0 = Date.UTC(2026, 11, 7, 4, 0, 10);

async function fixture() {
  const store = new MemoryStore();
  await transact(store, async (tx) => {
    for (const [name, value] of [['watched', 'enabled'], ['plain', 'disabled']] as const) {
      tx.putJson(keys.cluster(name), { clusterName: name, clusterArn: `arn:aws:ecs:us-east-1:1:cluster/${name}`, status: 'ACTIVE', settings: [{ name: 'containerInsights', value }] });
      tx.putJson(keys.service(name, 'worker'), {
        serviceName: 'worker',
        serviceArn: `arn:aws:ecs:us-east-1:1:service/${name}/worker`,
        status: 'ACTIVE',
        desiredCount: 3,
        runningCount: 2,
        pendingCount: 1,
        deployments: [{ id: 'a' }, { id: 'b' }],
        berth: { cluster: name },
      });
    }
    tx.putJson(keys.service('watched', 'idle'), { serviceName: 'idle', serviceArn: 'arn:aws:ecs:us-east-1:1:service/watched/idle', status: 'ACTIVE', desiredCount: 0, runningCount: 0, pendingCount: 0, berth: { cluster: 'watched' } });
    tx.putJson(keys.service('watched', 'gone'), { serviceName: 'gone', serviceArn: 'arn:aws:ecs:us-east-1:1:service/watched/gone', status: 'INACTIVE', berth: { cluster: 'watched' } });
    const instance = (id: string, attributes: { name: string }[]) =>
      tx.putJson(keys.containerInstance('watched', id), { cluster: 'watched', id, ec2InstanceId: id, reserved: {}, instance: { containerInstanceArn: `arn:ci/${id}`, status: 'ACTIVE', attributes } });
    instance('i-1', []);
    instance('i-pool', [{ name: FARGATE_POOL_ATTRIBUTE }]);
    for (const [id, lastStatus] of [['t1', 'RUNNING'], ['t2', 'RUNNING'], ['t3', 'PENDING'], ['t4', 'STOPPED']] as const) {
      tx.putJson(keys.task('watched', id), { cluster: 'watched', id, needs: {}, task: { taskArn: `arn:t/${id}`, lastStatus } });
    }
  });
  const written: Sample[][] = [];
  let now = T0;
  const options = { store, now: () => now, write: async (s: Sample[]) => void written.push(s) };
  return { store, written, options, advance: (ms: number) => (now += ms) };
}

const values = (samples: Sample[]) =>
  Object.fromEntries(samples.map((s) => [`${s.series.name} ${s.series.dimensions.map((d) => d.Value).join('/')}`, s.sum]));

describe('ECS/ContainerInsights counts', () => {
  it('publishes the counts of clusters that turn it on, once a minute, stamped with the minute', async () => {
    const f = await fixture();
    expect(await publishInsightsMinute(f.options)).toBe(13);
    expect(f.written).toHaveLength(1);
    const [samples] = f.written;
    expect(values(samples!)).toEqual({
      'ContainerInstanceCount watched': 1,
      'TaskCount watched': 2,
      'ServiceCount watched': 2,
      'DesiredTaskCount watched/worker': 3,
      'RunningTaskCount watched/worker': 2,
      'PendingTaskCount watched/worker': 1,
      'DeploymentCount watched/worker': 2,
      'TaskSetCount watched/worker': 0,
      'DesiredTaskCount watched/idle': 0,
      'RunningTaskCount watched/idle': 0,
      'PendingTaskCount watched/idle': 0,
      'DeploymentCount watched/idle': 0,
      'TaskSetCount watched/idle': 0,
    });
    expect(samples!.every((s) => s.series.namespace === 'ECS/ContainerInsights' && s.unit === 'Count' && s.t === Date.UTC(2026, 11, 7, 4, 0, 0) / 1000 && !s.highRes)).toBe(true);

    f.advance(45_000);
    expect(await publishInsightsMinute(f.options)).toBe(0);
    f.advance(10_000);
    expect(await publishInsightsMinute(f.options)).toBe(13);
    expect(f.written[1]![0]!.t).toBe(Date.UTC(2026, 11, 7, 4, 1, 0) / 1000);
  });

  it('a second leader (or a pass racing the first) never writes a minute twice', async () => {
    const f = await fixture();
    const results = await Promise.all([publishInsightsMinute(f.options), publishInsightsMinute(f.options)]);
    expect(results.sort()).toEqual([0, 13]);
    expect(f.written).toHaveLength(1);
  });

  it('a period under a minute (a test time scale) writes high-resolution datapoints on its own boundaries', async () => {
    const f = await fixture();
    await publishInsightsMinute({ ...f.options, periodS: 5 });
    expect(f.written[0]!.every((s) => s.highRes && s.t === Date.UTC(2026, 11, 7, 4, 0, 10) / 1000)).toBe(true);
  });

  it('is on for enabled and enhanced, off otherwise', () => {
    expect(insightsEnabled([{ name: 'containerInsights', value: 'enabled' }])).toBe(true);
    expect(insightsEnabled([{ name: 'containerInsights', value: 'enhanced' }])).toBe(true);
    expect(insightsEnabled([{ name: 'containerInsights', value: 'disabled' }])).toBe(false);
    expect(insightsEnabled(undefined)).toBe(false);
  });
});
