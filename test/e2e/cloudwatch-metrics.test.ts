/**
 * The CloudWatch metrics API on the built `berth server`, the same cases through each protocol berth serves it in:
 * the AWS CLI v2 (Query protocol), the SDK for JavaScript v3 (JSON 1.0), and hand-signed JSON 1.0 and Smithy RPC v2
 * CBOR requests — PutMetricData (values, value arrays with counts, statistic sets, units, dimensions, high
 * resolution), GetMetricStatistics (statistics and percentiles), GetMetricData (metric math, ScanBy, paging),
 * ListMetrics (filters, recently active, paging), and errors (code, field named, nothing stored). Then kill -9 of the
 * server during PutMetricData: every acknowledged datapoint is there after the restart.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { cborClient, cliClient, jsonClient, sdkClient, type Answer, type CloudWatchClient } from './support/cloudwatch-clients.js';

const REGION = 'eu-west-1';
/** 20 minutes ago, on a minute: every case's data lies after it. */
const T0 = Math.floor(Date.now() / 60_000) * 60 - 20 * 60;
const at = (s: number) => new Date((T0 + s) * 1000);

const ok = (a: Answer) => {
  if (!a.ok) throw new Error(`expected success, got ${a.code}: ${a.message}`);
  return a.output;
};
const refused = (a: Answer, code: string, fragment: string | RegExp) => {
  expect(a.ok, JSON.stringify(a)).toBe(false);
  if (a.ok) return a;
  expect(a.code).toBe(code);
  expect(a.message).toMatch(fragment);
  return a;
};

describe('CloudWatch metrics on the built server, in every protocol', () => {
  let dir: string;
  let server: BerthServerProcess;
  const clients: CloudWatchClient[] = [];
  const factories = [cliClient, sdkClient, jsonClient, cborClient] as const;

  beforeAll(async () => {
    expect(existsSync(AWS_CLI), `${AWS_CLI} (AWS CLI v2) is required`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-cloudwatch-'));
    server = await startBerthServer(join(dir, 'data'), ['--region', REGION]);
    for (const f of factories) clients.push(f(server, REGION));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.each(factories.map((f) => [f.name.replace(/Client$/, ''), f] as const))('%s', (_name, factory) => {
    const client = () => clients[factories.indexOf(factory)]!;
    const ns = () => `Test/${client().name}`;
    const latency = () => ({ Namespace: ns(), MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }] });

    it('puts values, value arrays with counts and statistic sets, and reads statistics and percentiles per period', async () => {
      const c = client();
      const dims = [{ Name: 'Service', Value: 'web' }];
      ok(
        await c.call('PutMetricData', {
          Namespace: ns(),
          MetricData: [
            { MetricName: 'Latency', Dimensions: dims, Timestamp: at(5), Values: Array.from({ length: 100 }, (_, i) => i + 1), Unit: 'Milliseconds' },
            { MetricName: 'Latency', Dimensions: dims, Timestamp: at(65), Value: 500, Unit: 'Milliseconds' },
            { MetricName: 'Latency', Dimensions: dims, Timestamp: at(70), StatisticValues: { SampleCount: 4, Sum: 40, Minimum: 5, Maximum: 15 }, Unit: 'Milliseconds' },
            { MetricName: 'Hits', Timestamp: at(10), Values: [1, 2], Counts: [3, 1] },
          ],
        }),
      );
      const stats = ok(
        await c.call('GetMetricStatistics', { ...latency(), StartTime: at(0), EndTime: at(180), Period: 60, Statistics: ['SampleCount', 'Sum', 'Minimum', 'Maximum', 'Average'] }),
      );
      expect(stats.Label).toBe('Latency');
      const byTime = [...stats.Datapoints].sort((a: { Timestamp: number }, b: { Timestamp: number }) => a.Timestamp - b.Timestamp);
      expect(byTime).toEqual([
        { Timestamp: T0, SampleCount: 100, Sum: 5050, Minimum: 1, Maximum: 100, Average: 50.5, Unit: 'Milliseconds' },
        { Timestamp: T0 + 60, SampleCount: 5, Sum: 540, Minimum: 5, Maximum: 500, Average: 108, Unit: 'Milliseconds' },
      ]);
      const pct = ok(await c.call('GetMetricStatistics', { ...latency(), StartTime: at(0), EndTime: at(60), Period: 60, ExtendedStatistics: ['p50', 'p90', 'p99'] }));
      const ext = pct.Datapoints[0].ExtendedStatistics;
      for (const p of [50, 90, 99]) expect(Math.abs(ext[`p${p}`] - p) / p).toBeLessThanOrEqual(0.01);
      const hits = ok(await c.call('GetMetricStatistics', { Namespace: ns(), MetricName: 'Hits', StartTime: at(0), EndTime: at(60), Period: 60, Statistics: ['Sum', 'SampleCount'] }));
      expect(hits.Datapoints).toEqual([{ Timestamp: T0, Sum: 5, SampleCount: 4, Unit: 'None' }]);
      // A Unit filter that is not the metric's finds nothing.
      expect(ok(await c.call('GetMetricStatistics', { ...latency(), StartTime: at(0), EndTime: at(60), Period: 60, Statistics: ['Sum'], Unit: 'Seconds' })).Datapoints ?? []).toEqual([]);
    });

    it('keeps high-resolution data per second', async () => {
      const c = client();
      ok(await c.call('PutMetricData', { Namespace: ns(), MetricData: [1, 2, 3].map((v) => ({ MetricName: 'Fast', Timestamp: at(600 + v), Value: v, StorageResolution: 1 })) }));
      const fast = ok(await c.call('GetMetricStatistics', { Namespace: ns(), MetricName: 'Fast', StartTime: at(600), EndTime: at(610), Period: 1, Statistics: ['Sum'] }));
      expect(fast.Datapoints.map((d: { Timestamp: number; Sum: number }) => [d.Timestamp - T0, d.Sum]).sort()).toEqual([[601, 1], [602, 2], [603, 3]]);
    });

    it('evaluates metric math in GetMetricData, in the order asked, and pages by MaxDatapoints', async () => {
      const c = client();
      const stat = (MetricName: string, Dimensions: object[] = []) => ({ Metric: { Namespace: ns(), MetricName, Dimensions }, Period: 60, Stat: 'Sum' });
      const queries = [
        { Id: 'm1', MetricStat: stat('Latency', [{ Name: 'Service', Value: 'web' }]) },
        { Id: 'm2', MetricStat: stat('Hits'), ReturnData: false },
        { Id: 'total', Expression: 'SUM(METRICS())', Label: 'all' },
        { Id: 'slow', Expression: 'IF(m1 > 1000, 1, 0)' },
        { Id: 'filled', Expression: 'FILL(m2, 0) * 2' },
      ];
      const out = ok(await c.call('GetMetricData', { MetricDataQueries: queries, StartTime: at(0), EndTime: at(180), ScanBy: 'TimestampAscending' }));
      const results = Object.fromEntries(out.MetricDataResults.map((r: { Id: string }) => [r.Id, r]));
      expect(Object.keys(results).sort()).toEqual(['filled', 'm1', 'slow', 'total']);
      expect(results.m1).toMatchObject({ Label: 'Latency', Timestamps: [T0, T0 + 60], Values: [5050, 540], StatusCode: 'Complete' });
      expect(results.total).toMatchObject({ Label: 'all', Values: [5055, 540] });
      expect(results.slow.Values).toEqual([1, 0]);
      expect(results.filled).toMatchObject({ Timestamps: [T0, T0 + 60, T0 + 120], Values: [10, 0, 0] });
      // Descending by default.
      const desc = ok(await c.call('GetMetricData', { MetricDataQueries: [queries[0]], StartTime: at(0), EndTime: at(180) }));
      expect(desc.MetricDataResults[0].Timestamps).toEqual([T0 + 60, T0]);
      // Two datapoints a page: every datapoint exactly once over the pages, PartialData until the last.
      const seen: Record<string, number[]> = {};
      let token: string | undefined;
      let pages = 0;
      do {
        const page = ok(await c.call('GetMetricData', { MetricDataQueries: queries, StartTime: at(0), EndTime: at(180), ScanBy: 'TimestampAscending', MaxDatapoints: 2, ...(token ? { NextToken: token } : {}) }));
        for (const r of page.MetricDataResults) (seen[r.Id] ??= []).push(...(r.Values ?? []));
        token = page.NextToken;
        pages++;
      } while (token && pages < 10);
      expect(pages).toBe(5); // 2 + 2 + 2 + 3 datapoints
      expect(seen).toEqual({ m1: [5050, 540], total: [5055, 540], slow: [1, 0], filled: [10, 0, 0] });
    });

    it('lists metrics with filters, recently active, and pages of 500', async () => {
      const c = client();
      ok(await c.call('PutMetricData', { Namespace: ns(), MetricData: Array.from({ length: 510 }, (_, i) => ({ MetricName: 'Many', Dimensions: [{ Name: 'i', Value: String(i) }], Value: i })) }));
      const first = ok(await c.call('ListMetrics', { Namespace: ns(), MetricName: 'Many' }));
      expect(first.Metrics).toHaveLength(500);
      expect(first.NextToken).toBeTruthy();
      const second = ok(await c.call('ListMetrics', { Namespace: ns(), MetricName: 'Many', NextToken: first.NextToken }));
      expect(second.Metrics).toHaveLength(10);
      expect(second.NextToken).toBeUndefined();
      expect(new Set([...first.Metrics, ...second.Metrics].map((m: { Dimensions: { Value: string }[] }) => m.Dimensions[0]!.Value)).size).toBe(510);
      expect(ok(await c.call('ListMetrics', { Namespace: ns(), Dimensions: [{ Name: 'i', Value: '7' }] })).Metrics).toEqual([{ Namespace: ns(), MetricName: 'Many', Dimensions: [{ Name: 'i', Value: '7' }] }]);
      expect(ok(await c.call('ListMetrics', { Namespace: ns(), Dimensions: [{ Name: 'Service' }], RecentlyActive: 'PT3H' })).Metrics).toEqual([
        { Namespace: ns(), MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }] },
      ]);
      refused(await c.call('ListMetrics', { Namespace: ns(), NextToken: first.NextToken }), 'InvalidNextToken', /NextToken/);
    });

    it('refuses bad input with CloudWatch\'s errors naming the field, and stores nothing of the request', async () => {
      const c = client();
      const wire = (a: Answer, shape: string) => {
        if (!a.ok && a.wireType !== undefined) {
          expect(a.wireType).toBe(`com.amazonaws.cloudwatch#${shape}`);
          expect(a.status).toBe(400);
        }
      };
      const bad = await c.call('PutMetricData', { Namespace: ns(), MetricData: [{ MetricName: 'Good', Value: 1 }, { MetricName: 'Bad', Value: 1, StorageResolution: 7 }] });
      wire(refused(bad, 'InvalidParameterValue', /MetricData\.member\.2\.StorageResolution/), 'InvalidParameterValueException');
      expect(ok(await c.call('ListMetrics', { Namespace: ns(), MetricName: 'Good' })).Metrics ?? []).toEqual([]);
      wire(
        refused(
          await c.call('PutMetricData', { Namespace: ns(), MetricData: [{ MetricName: 'X', Value: 1, StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } }] }),
          'InvalidParameterCombination',
          /MetricData\.member\.1\.Value and MetricData\.member\.1\.StatisticValues are mutually exclusive/,
        ),
        'InvalidParameterCombinationException',
      );
      refused(await c.call('PutMetricData', { Namespace: ns(), MetricData: [{ MetricName: 'X', Value: 1, Timestamp: new Date(Date.now() - 15 * 86_400_000) }] }), 'InvalidParameterValue', /two weeks in the past/);
      refused(await c.call('PutMetricData', { Namespace: ns(), MetricData: [{ MetricName: 'X', Values: [1, 2], Counts: [1] }] }), 'InvalidParameterValue', /Values and MetricData\.member\.1\.Counts must be of the same size/);
      refused(await c.call('PutMetricData', { Namespace: ns(), MetricData: Array.from({ length: 1001 }, () => ({ MetricName: 'X', Value: 1 })) }), 'InvalidParameterValue', /MetricData must not have a size greater than 1000/);
      refused(
        await c.call('PutMetricData', { Namespace: ns(), MetricData: [{ MetricName: 'X', Value: 1, Dimensions: Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: 'v' })) }] }),
        'InvalidParameterValue',
        /MetricData\.member\.1\.Dimensions must not have a size greater than 30/,
      );
      wire(
        refused(
          await c.call('GetMetricData', { MetricDataQueries: [{ Id: 'm1', MetricStat: { Metric: { Namespace: ns() }, Period: 60, Stat: 'Sum' } }], StartTime: at(0), EndTime: at(60) }),
          'MissingParameter',
          /MetricDataQueries\.member\.1\.MetricStat\.Metric\.MetricName is required/,
        ),
        'MissingRequiredParameterException',
      );
      refused(
        await c.call('GetMetricData', { MetricDataQueries: [{ Id: 'e1', Expression: 'm9 * 2' }], StartTime: at(0), EndTime: at(60) }),
        'InvalidParameterValue',
        /MetricDataQueries\.member\.1\.Expression.*Unrecognized identifier m9/,
      );
      refused(
        await c.call('GetMetricData', { MetricDataQueries: [{ Id: 'm1', MetricStat: { Metric: { Namespace: ns(), MetricName: 'Hits' }, Period: 60, Stat: 'Sum' } }], StartTime: at(0), EndTime: at(60), NextToken: 'bm90LWEtdG9rZW4' }),
        'InvalidNextToken',
        /NextToken/,
      );
      refused(
        await c.call('GetMetricStatistics', { ...latency(), StartTime: at(-2 * 86_400), EndTime: at(0), Period: 60, Statistics: ['Sum'] }),
        'InvalidParameterCombination',
        /requested up to 2,880 datapoints, which exceeds the limit of 1,440/,
      );
      refused(await c.call('GetDashboard', { DashboardName: 'd' }), 'UnsupportedFeatureException', /GetDashboard/);
    });

    it('alarms: put, describe with filters and pages, set state with history, actions on and off, tags, errors', async () => {
      const c = client();
      const name = (i: number) => `${c.name}-alarm-${i}`;
      for (const i of [1, 2, 3]) {
        ok(
          await c.call('PutMetricAlarm', {
            AlarmName: name(i),
            ...latency(),
            Statistic: 'Average',
            Period: 60,
            EvaluationPeriods: 3,
            DatapointsToAlarm: 2,
            Threshold: 100 * i,
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: 'notBreaching',
            AlarmActions: ['arn:aws:autoscaling:eu-west-1:000000000000:scalingPolicy:00000000-0000-0000-0000-000000000000:resource/ecs/service/c/s:policyName/p'],
            Tags: [{ Key: 'team', Value: 'web' }],
          }),
        );
      }
      const all = ok(await c.call('DescribeAlarms', { AlarmNamePrefix: `${c.name}-alarm-` }));
      expect(all.MetricAlarms.map((a: { AlarmName: string }) => a.AlarmName)).toEqual([name(1), name(2), name(3)]);
      // New alarms start INSUFFICIENT_DATA; the leader's evaluation (every 10 s) may already have found them OK (no data, notBreaching).
      expect(['INSUFFICIENT_DATA', 'OK']).toContain(all.MetricAlarms[1].StateValue);
      expect(all.MetricAlarms[1]).toMatchObject({ Threshold: 200, EvaluationPeriods: 3, DatapointsToAlarm: 2, Period: 60, Statistic: 'Average', TreatMissingData: 'notBreaching', ActionsEnabled: true });
      const page1 = ok(await c.call('DescribeAlarms', { AlarmNamePrefix: `${c.name}-alarm-`, MaxRecords: 2 }));
      expect(page1.MetricAlarms).toHaveLength(2);
      const page2 = ok(await c.call('DescribeAlarms', { AlarmNamePrefix: `${c.name}-alarm-`, MaxRecords: 2, NextToken: page1.NextToken }));
      expect(page2.MetricAlarms.map((a: { AlarmName: string }) => a.AlarmName)).toEqual([name(3)]);
      ok(await c.call('SetAlarmState', { AlarmName: name(1), StateValue: 'ALARM', StateReason: 'testing', StateReasonData: '{"by":"test"}' }));
      const inAlarm = ok(await c.call('DescribeAlarms', { AlarmNames: [name(1), name(2)], StateValue: 'ALARM' })).MetricAlarms.map((a: { AlarmName: string }) => a.AlarmName);
      const history = ok(await c.call('DescribeAlarmHistory', { AlarmName: name(1), HistoryItemType: 'StateUpdate' }));
      const putBack = history.AlarmHistoryItems.some((h: { HistorySummary: string }) => h.HistorySummary === 'Alarm updated from ALARM to OK');
      expect(inAlarm).toEqual(putBack ? expect.arrayContaining([]) : [name(1)]);
      expect(inAlarm).not.toContain(name(2));
      // As in AWS, SetAlarmState lasts until the next evaluation, which may already have put it back to OK: find the
      // set's own item rather than reading the newest.
      const toAlarm = history.AlarmHistoryItems.filter((h: { HistorySummary: string }) => /ALARM$/.test(h.HistorySummary));
      expect(toAlarm).toHaveLength(1);
      expect(toAlarm[0]).toMatchObject({ AlarmName: name(1), HistoryItemType: 'StateUpdate', HistorySummary: expect.stringMatching(/^Alarm updated from (INSUFFICIENT_DATA|OK) to ALARM$/) });
      const forMetric = ok(await c.call('DescribeAlarmsForMetric', { ...latency(), Statistic: 'Average', Period: 60 }));
      expect(forMetric.MetricAlarms.map((a: { AlarmName: string }) => a.AlarmName).filter((n: string) => n.startsWith(c.name))).toEqual([name(1), name(2), name(3)]);
      ok(await c.call('DisableAlarmActions', { AlarmNames: [name(2)] }));
      expect(ok(await c.call('DescribeAlarms', { AlarmNames: [name(2)] })).MetricAlarms[0].ActionsEnabled).toBe(false);
      const arn = all.MetricAlarms[0].AlarmArn as string;
      expect(arn).toBe(`arn:aws:cloudwatch:${REGION}:000000000000:alarm:${name(1)}`);
      ok(await c.call('TagResource', { ResourceARN: arn, Tags: [{ Key: 'tier', Value: 'gold' }] }));
      expect(ok(await c.call('ListTagsForResource', { ResourceARN: arn })).Tags).toEqual([{ Key: 'team', Value: 'web' }, { Key: 'tier', Value: 'gold' }]);
      refused(await c.call('PutMetricAlarm', { AlarmName: name(9), ...latency(), Statistic: 'Average', Period: 45, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }), 'InvalidParameterValue', /Period/);
      refused(await c.call('PutMetricAlarm', { AlarmName: name(9), ...latency(), Statistic: 'Average', Period: 60, EvaluationPeriods: 2, DatapointsToAlarm: 3, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }), 'InvalidParameterValue', /DatapointsToAlarm/);
      refused(await c.call('SetAlarmState', { AlarmName: name(9), StateValue: 'OK', StateReason: 'x' }), 'ResourceNotFound', new RegExp(name(9)));
      refused(await c.call('DeleteAlarms', { AlarmNames: [name(1), name(9)] }), 'ResourceNotFound', new RegExp(name(9)));
      ok(await c.call('DeleteAlarms', { AlarmNames: [name(1), name(2), name(3)] }));
      expect(ok(await c.call('DescribeAlarms', { AlarmNamePrefix: `${c.name}-alarm-` })).MetricAlarms).toEqual([]);
    });
  });
});

describe('CloudWatch metrics survive kill -9', () => {
  it('every acknowledged PutMetricData is there after the server is killed mid-ingest and restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-cloudwatch-kill-'));
    let server = await startBerthServer(join(dir, 'data'), ['--region', REGION]);
    let client = sdkClient(server, REGION);
    try {
      const acknowledged = new Set<number>();
      let next = 0;
      let killed = false;
      // 16 writers, each call 100 values into a series of its own; the kill comes after 60 acknowledgements.
      const writer = async () => {
        while (!killed && next < 2000) {
          const i = next++;
          const answer = await client.call('PutMetricData', {
            Namespace: 'Kill',
            MetricData: [{ MetricName: 'K', Dimensions: [{ Name: 'call', Value: String(i) }], Timestamp: at(300), Values: Array.from({ length: 100 }, (_, v) => v) }],
          });
          if (answer.ok) acknowledged.add(i);
        }
      };
      const writers = Array.from({ length: 16 }, writer);
      await expect.poll(() => acknowledged.size, { timeout: 30_000, interval: 5 }).toBeGreaterThanOrEqual(60);
      killed = true;
      expect(await server.kill('SIGKILL')).toBeNull();
      await Promise.all(writers);
      const before = [...acknowledged];
      client.close();
      server = await startBerthServer(join(dir, 'data'), ['--region', REGION]);
      client = sdkClient(server, REGION);
      // Every acknowledged call's 100 values, read back 500 series a request.
      for (let from = 0; from < before.length; from += 500) {
        const chunk = before.slice(from, from + 500);
        const out = ok(
          await client.call('GetMetricData', {
            MetricDataQueries: chunk.map((i) => ({ Id: `c${i}`, MetricStat: { Metric: { Namespace: 'Kill', MetricName: 'K', Dimensions: [{ Name: 'call', Value: String(i) }] }, Period: 60, Stat: 'SampleCount' } })),
            StartTime: at(0),
            EndTime: at(600),
          }),
        );
        for (const r of out.MetricDataResults) expect(r.Values, r.Id).toEqual([100]);
      }
      expect(before.length).toBeGreaterThanOrEqual(60);
    } finally {
      client.close();
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
