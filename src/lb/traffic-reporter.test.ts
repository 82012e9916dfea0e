import { describe, expect, it, vi } from 'vitest';
import type { DesiredState, TargetGroup } from './desired.js';
import { memoryLog, targetGroup } from './testing/lb-lab.js';
import type { TargetGroupTraffic } from './traffic-counters.js';
import { albTargetGroups, TrafficReporter } from './traffic-reporter.js';

const HEADER = '# pxname,svname,status,rtime,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,req_tot,';
const answer = (pid: number, requests: number) => `Pid: ${pid}\n\n${HEADER}\ntg_a,t1,UP,10,${requests},0,0,0,${requests},\n`;

describe('albTargetGroups', () => {
  it("names the backends of the groups an application load balancer's HTTP listeners forward to, by default action or rule", () => {
    const tg = (id: string): TargetGroup => ({ ...targetGroup(id, []), id });
    const desired: DesiredState = {
      loadBalancers: [
        {
          id: 'lb1',
          name: 'web',
          type: 'application',
          listeners: [
            {
              id: 'l1',
              port: 80,
              protocol: 'HTTP',
              defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 'a', weight: 1 }] },
              rules: [{ id: 'r1', priority: 1, conditions: [], action: { type: 'forward', targetGroups: [{ targetGroupId: 'b', weight: 1 }, { targetGroupId: 'c', weight: 1 }] } }],
            },
          ],
        },
        {
          id: 'lb2',
          name: 'tcp',
          type: 'network',
          listeners: [{ id: 'l2', port: 81, protocol: 'TCP', defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 'd', weight: 1 }] }, rules: [] }],
        },
      ],
      targetGroups: ['a', 'b', 'c', 'd'].map(tg),
    };
    const arns = new Map([
      ['a', 'arn-a'],
      ['b', 'arn-b'],
      ['c', 'arn-c'],
      ['d', 'arn-d'],
    ]);
    expect(albTargetGroups(desired, (id) => arns.get(id))).toEqual(
      new Map([
        ['tg_a', 'arn-a'],
        ['tg_b', 'arn-b'],
        ['tg_c', 'arn-c'],
      ]),
    );
  });
});

describe('TrafficReporter', () => {
  /** A reporter over a fake HAProxy (`haproxy.pid`, `haproxy.requests` of server t1 of tg_a) and a fake control plane. */
  function rig() {
    const haproxy = { pid: 5, requests: 0, reads: 0, hold: undefined as Promise<void> | undefined };
    const control = { fail: false, sent: [] as TargetGroupTraffic[][] };
    const groups = new Map([
      ['tg_a', 'arn-a'],
      ['tg_b', 'arn-b'],
    ]);
    const reporter = new TrafficReporter({
      read: async () => {
        // What HAProxy answered when asked; a held answer arrives when the test lets it.
        const text = answer(haproxy.pid, haproxy.requests);
        haproxy.reads++;
        const hold = haproxy.hold;
        haproxy.hold = undefined;
        await hold;
        return text;
      },
      groups: () => groups,
      reports: {
        async reportTraffic(_node, traffic) {
          if (control.fail) throw new Error('control plane unreachable');
          control.sent.push([...traffic]);
        },
      },
      nodeId: 'n1',
      log: memoryLog(),
    });
    const requestsSent = () => control.sent.map((s) => s.find((t) => t.TargetGroupArn === 'arn-a')!.Requests);
    return { haproxy, control, groups, reporter, requestsSent };
  }

  it('reports every served group, zeros included (the control plane writes host counts from them)', async () => {
    const { haproxy, control, reporter } = rig();
    haproxy.requests = 10;
    await reporter.reportOnce();
    expect(control.sent[0]!.map((t) => [t.TargetGroupArn, t.Requests])).toEqual([
      ['arn-a', 10],
      ['arn-b', 0],
    ]);
  });

  it('keeps what a failed report carried and sends it with the next', async () => {
    const { haproxy, control, reporter, requestsSent } = rig();
    haproxy.requests = 10;
    await reporter.reportOnce();
    haproxy.requests = 25;
    control.fail = true;
    await expect(reporter.reportOnce()).rejects.toThrow(/unreachable/);
    haproxy.requests = 40;
    control.fail = false;
    await reporter.reportOnce();
    expect(requestsSent()).toEqual([10, 30]);
  });

  it("counts what a worker served up to a reload when told before it, and the new worker's from zero", async () => {
    const { haproxy, reporter, requestsSent } = rig();
    haproxy.requests = 10;
    await reporter.reportOnce();
    haproxy.requests = 60;
    await reporter.beforeCountersReset();
    // The new worker has already served more than the old one had counted: only the pid tells them apart.
    haproxy.pid = 6;
    haproxy.requests = 70;
    await reporter.reportOnce();
    expect(requestsSent()).toEqual([10, 50 + 70]);
  });

  it('runs readings one at a time: a reading asked for during a slow one folds after it, never against a stale baseline', async () => {
    const { haproxy, reporter, requestsSent } = rig();
    let release!: () => void;
    haproxy.hold = new Promise<void>((r) => (release = r));
    haproxy.requests = 10;
    const report = reporter.reportOnce();
    await vi.waitFor(() => expect(haproxy.reads).toBe(1));
    // The report's reading (10) is still on its way when a reload asks for one (30).
    haproxy.requests = 30;
    const hook = reporter.beforeCountersReset();
    release();
    await Promise.all([report, hook]);
    haproxy.requests = 35;
    await reporter.reportOnce();
    expect(requestsSent()).toEqual([10, 25]);
  });

  it('sends 100 groups a call; when a call fails, only its groups and those after it are sent again', async () => {
    const groups = new Map(Array.from({ length: 250 }, (_, i) => [`tg_${i}`, `arn-${String(i).padStart(3, '0')}`] as const));
    const rows = [...groups.keys()].map((b) => `${b},t1,UP,10,1,0,0,0,1,`).join('\n');
    const calls: string[][] = [];
    let failAt = 1;
    const reporter = new TrafficReporter({
      read: async () => `Pid: 5\n\n${HEADER}\n${rows}\n`,
      groups: () => groups,
      reports: {
        async reportTraffic(_node, traffic) {
          if (calls.length === failAt) {
            failAt = -1;
            calls.push([]);
            throw new Error('timeout');
          }
          calls.push(traffic.filter((t) => t.Requests > 0).map((t) => t.TargetGroupArn));
        },
      },
      nodeId: 'n1',
      log: memoryLog(),
    });
    await expect(reporter.reportOnce()).rejects.toThrow(/timeout/);
    await reporter.reportOnce();
    // First report: groups 0-99 acknowledged, the call with 100-199 failed (250-… never sent). Second: 0-99 with
    // zeros (no new traffic), then 100-249: nothing twice, nothing lost.
    expect(calls.map((c) => c.length)).toEqual([100, 0, 0, 100, 50]);
    expect(new Set(calls.flat()).size).toBe(250);
  });

  it('sends nothing while no group is served', async () => {
    const sent: unknown[] = [];
    const reporter = new TrafficReporter({
      read: async () => answer(5, 3),
      groups: () => new Map(),
      reports: { reportTraffic: async (_n, t) => void sent.push(t) },
      nodeId: 'n1',
      log: memoryLog(),
    });
    expect(await reporter.reportOnce()).toEqual([]);
    expect(sent).toEqual([]);
  });
});
