/**
 * `berth metrics` end to end: the built server, datapoints put with the SDK, and the built CLI printing them as a
 * sparkline with min/max/last, and refusing bad flags in words.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berthCli } from './support/berth-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

describe('berth metrics', () => {
  let dir: string;
  let server: BerthServerProcess;
  let cw: CloudWatchClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-metrics-cli-'));
    server = await startBerthServer(join(dir, 'data'));
    cw = new CloudWatchClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys });
  });
  afterAll(async () => {
    cw?.destroy();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws the last minutes of a metric, one character per period, with min, max and last', async () => {
    // The chart's window ends with the current minute: keep clear of a minute turning between the put and the read.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5_000) await new Promise((r) => setTimeout(r, left + 100));
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // Values 1..5 in the last five minutes (oldest first), none the minute before them.
    const MetricData = [1, 2, 3, 4, 5].map((v, i) => ({
      MetricName: 'QueueDepth',
      Dimensions: [{ Name: 'Queue', Value: 'jobs' }],
      Timestamp: new Date(minute - (4 - i) * 60_000 + 1_000),
      Value: v,
      Unit: 'Count' as const,
    }));
    await cw.send(new PutMetricDataCommand({ Namespace: 'App', MetricData }));
    const out = await berthCli(server, ['metrics', '--endpoint', server.url, '--namespace', 'App', '--metric', 'QueueDepth', '--dimension', 'Queue=jobs', '--since', '10m', '--stat', 'Maximum']);
    expect(out.code, out.stderr).toBe(0);
    const [title, line, summary] = out.stdout.trimEnd().split('\n');
    expect(title).toMatch(/^App QueueDepth \(Queue=jobs\) Maximum, 60 s periods, /);
    // Ten periods ending with the current minute: five empty, then 1..5 rising.
    expect(line).toBe('│     ▁▃▅▇█│');
    expect(summary).toBe('min 1 Count · max 5 Count · last 5 Count');
    const asJson = await berthCli(server, ['metrics', '--endpoint', server.url, '--namespace', 'App', '--metric', 'QueueDepth', '--dimension', 'Queue=jobs', '--since', '10m', '--stat', 'Maximum', '-o', 'json']);
    const parsed = JSON.parse(asJson.stdout) as { title: string; unit: string; datapoints: { at: string; value: number }[] };
    expect(parsed.unit).toBe('Count');
    expect(parsed.datapoints.map((d) => d.value).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(asJson.stdout).not.toContain('│');
  });

  it('says so when the window holds no datapoint, and refuses bad flags naming them', async () => {
    const empty = await berthCli(server, ['metrics', '--endpoint', server.url, '--namespace', 'App', '--metric', 'Nothing', '--since', '5m']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('no datapoints in this window');
    const bad = await berthCli(server, ['metrics', '--endpoint', server.url, '--namespace', 'App', '--metric', 'QueueDepth', '--stat', 'Median']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--stat: 'Median'");
    const dim = await berthCli(server, ['metrics', '--endpoint', server.url, '--namespace', 'App', '--metric', 'QueueDepth', '--dimension', 'Queue']);
    expect(dim.stderr).toContain("--dimension: 'Queue' is not Name=Value");
  });
});
