import { describe, expect, it } from 'vitest';
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
  it('advances its baseline only when a report is acknowledged: a failed report goes out with the next', async () => {
    let requests = 10;
    let fail = false;
    const sent: TargetGroupTraffic[][] = [];
    const reporter = new TrafficReporter({
      read: async () => answer(5, requests),
      groups: () => new Map([['tg_a', 'arn-a']]),
      reports: {
        async reportTraffic(_node, traffic) {
          if (fail) throw new Error('control plane unreachable');
          sent.push([...traffic]);
        },
      },
      nodeId: 'n1',
      log: memoryLog(),
    });
    await reporter.reportOnce();
    requests = 25;
    fail = true;
    await expect(reporter.reportOnce()).rejects.toThrow(/unreachable/);
    requests = 40;
    fail = false;
    await reporter.reportOnce();
    expect(sent.map((s) => s[0]!.Requests)).toEqual([10, 30]);
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
