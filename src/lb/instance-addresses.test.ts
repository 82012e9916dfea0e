import { DescribeContainerInstancesCommand, ListClustersCommand, ListContainerInstancesCommand, type ContainerInstance } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { instanceTargetIds } from './follower.js';
import { InstanceAddresses } from './instance-addresses.js';

/** An ECS API over `clusters` (name → instances), paging by 2 to exercise nextToken, counting calls. */
function fakeEcs(clusters: Map<string, ContainerInstance[]>) {
  const calls: string[] = [];
  let failing = false;
  const page = <T>(items: T[], token: string | undefined) => {
    const at = Number(token ?? 0);
    return { items: items.slice(at, at + 2), next: at + 2 < items.length ? String(at + 2) : undefined };
  };
  const send = async (command: unknown): Promise<unknown> => {
    calls.push((command as object).constructor.name);
    if (failing) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    if (command instanceof ListClustersCommand) {
      const p = page([...clusters.keys()], command.input.nextToken);
      return { clusterArns: p.items, nextToken: p.next };
    }
    if (command instanceof ListContainerInstancesCommand) {
      const p = page(clusters.get(command.input.cluster!)!, command.input.nextToken);
      return { containerInstanceArns: p.items.map((c) => c.containerInstanceArn), nextToken: p.next };
    }
    if (command instanceof DescribeContainerInstancesCommand) {
      const all = clusters.get(command.input.cluster!)!;
      return { containerInstances: command.input.containerInstances!.map((arn) => all.find((c) => c.containerInstanceArn === arn)) };
    }
    throw new Error('unexpected command');
  };
  return { ecs: { send } as never, calls, fail: (v: boolean) => (failing = v) };
}

const instance = (n: number, address?: string): ContainerInstance => ({
  containerInstanceArn: `arn:aws:ecs:us-east-1:000000000000:container-instance/c/${n}`,
  ec2InstanceId: `i-${String(n).padStart(17, '0')}`,
  attributes: [{ name: 'ecs.os-type', value: 'linux' }, ...(address ? [{ name: 'berth.host-address', value: address }] : [])],
});
const id = (n: number) => `i-${String(n).padStart(17, '0')}`;

describe('InstanceAddresses', () => {
  it('maps every instance of every cluster (all pages) to its berth.host-address; none without the attribute', async () => {
    const { ecs } = fakeEcs(new Map([['a', [instance(1, '10.0.0.1'), instance(2, '10.0.0.2'), instance(3)]], ['b', [instance(4, 'fd00::4')]], ['c', []]]));
    const a = new InstanceAddresses({ ecs });
    await a.ensure([id(1)]);
    expect([1, 2, 3, 4, 5].map((n) => a.lookup(id(n)))).toEqual(['10.0.0.1', '10.0.0.2', undefined, 'fd00::4', undefined]);
  });

  it('reads once per refreshMs for known ids, sooner (missRetryMs) for an unknown one, and follows a changed address', async () => {
    let now = 0;
    const clusters = new Map([['a', [instance(1, '10.0.0.1')]]]);
    const { ecs, calls } = fakeEcs(clusters);
    const a = new InstanceAddresses({ ecs, refreshMs: 10_000, missRetryMs: 2_000, now: () => now });
    await a.ensure([id(1)]);
    const perRefresh = calls.length;
    expect(perRefresh).toBe(3);
    for (now = 0; now < 10_000; now += 1_000) await a.ensure([id(1)]);
    expect(calls.length).toBe(perRefresh);
    // Stale after refreshMs: an address that changed is followed.
    clusters.set('a', [instance(1, '10.0.0.9')]);
    now = 10_000;
    await a.ensure([id(1)]);
    expect(calls.length).toBe(2 * perRefresh);
    expect(a.lookup(id(1))).toBe('10.0.0.9');
    // An instance not known yet: not read again before missRetryMs, then read.
    clusters.set('a', [instance(1, '10.0.0.9'), instance(2, '10.0.0.2')]);
    now = 11_000;
    await a.ensure([id(1), id(2)]);
    expect(a.lookup(id(2))).toBeUndefined();
    now = 12_000;
    await a.ensure([id(1), id(2)]);
    expect(a.lookup(id(2))).toBe('10.0.0.2');
    // Concurrent ensures share one refresh.
    now = 30_000;
    await Promise.all([a.ensure([id(1)]), a.ensure([id(1)]), a.ensure([id(2)])]);
    expect(calls.length).toBe(4 * perRefresh);
  });

  it('makes no call while no instance target needs an address', async () => {
    const { ecs, calls } = fakeEcs(new Map([['a', [instance(1, '10.0.0.1')]]]));
    const a = new InstanceAddresses({ ecs });
    await a.ensure([]);
    await a.ensure(new Set());
    expect(calls).toEqual([]);
  });

  it('keeps the last map when a refresh fails, and tries again only after missRetryMs', async () => {
    let now = 0;
    const { ecs, calls, fail } = fakeEcs(new Map([['a', [instance(1, '10.0.0.1')]]]));
    const a = new InstanceAddresses({ ecs, refreshMs: 5_000, missRetryMs: 2_000, now: () => now });
    await a.ensure([id(1)]);
    fail(true);
    now = 5_000;
    await expect(a.ensure([id(1)])).rejects.toThrow('denied');
    expect(a.lookup(id(1))).toBe('10.0.0.1');
    const n = calls.length;
    now = 6_000;
    await a.ensure([id(1)]);
    expect(calls.length).toBe(n);
    fail(false);
    now = 7_000;
    await a.ensure([id(1)]);
    expect(calls.length).toBe(n + 3);
  });
});

describe('instanceTargetIds', () => {
  it('lists the ids of instance targets only', () => {
    const ids = instanceTargetIds({
      loadBalancers: [],
      listeners: new Map(),
      rules: new Map(),
      attributes: new Map(),
      targetGroups: [
        { TargetGroupArn: 'tg-i', TargetType: 'instance' },
        { TargetGroupArn: 'tg-ip', TargetType: 'ip' },
      ],
      targets: new Map([
        ['tg-i', [{ Target: { Id: 'i-1', Port: 1 } }, { Target: { Id: 'i-2', Port: 1 } }, { Target: { Id: 'i-1', Port: 2 } }]],
        ['tg-ip', [{ Target: { Id: '10.0.0.1', Port: 1 } }]],
      ]),
    });
    expect([...ids]).toEqual(['i-1', 'i-2']);
  });
});
