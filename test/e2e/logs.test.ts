import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AwsJsonClient } from '../../src/agent/aws-json/client.js';
import { LOGS } from '../../src/agent/aws-json/services.js';
import { LogShipper } from '../../src/agent/log-shipper.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { berthCli } from './support/berth-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const berth = berthCli;

// The built server as its own process; a LogShipper (the agent's part) ships a CRI-format file to it;
// the AWS CLI v2 reads the lines back. There are no containers here: the file is what conmon would write.
describe.runIf(hasAwsCli)('container logs through the built server, read with the AWS CLI', () => {
  let dir: string;
  let dataDir: string;
  let server: BerthServerProcess;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const TASK_ID = '0123456789abcdef0123456789abcdef';
  const STREAM = `web/app/${TASK_ID}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-logs-'));
    dataDir = join(dir, 'data');
    server = await startBerthServer(dataDir);
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships a container log with the shipper and reads it back with aws logs', async () => {
    // The agent's own client (the shipper's in `berth agent`), pointed at the one server.
    const endpoints = { current: () => server.url, failed: () => {}, succeeded: () => {} };
    const client = new AwsJsonClient(LOGS, { endpoints, region: 'us-east-1', credentials: server.keys, maxAttempts: 2, timeouts: { connectionTimeout: 3_000, requestTimeout: 10_000 } });
    const shipper = new LogShipper({ client, stateDir: join(dir, 'shipper'), log: pino({ level: 'silent' }), flushMs: 100 });
    const logPath = join(dir, 'container.log');
    const at = (i: number) => new Date(Date.now() - 60_000 + i).toISOString();
    appendFileSync(
      logPath,
      `${at(0)} stdout F listening on :8080\n` +
        `${at(1)} stderr P ERROR: upstream \n` +
        `${at(2)} stdout F GET / 200\n` +
        `${at(3)} stderr F refused the connection\n` +
        `${at(4)} stdout F ünïcödé ✓\n`,
    );
    shipper.follow({ runtimeId: 'rt-e2e', logPath, taskArn: `arn:aws:ecs:us-east-1:000000000000:task/e2e/${TASK_ID}`, family: 'web', containerName: 'app', cluster: 'e2e' });
    const expected = ['listening on :8080', 'GET / 200', 'ERROR: upstream refused the connection', 'ünïcödé ✓'];
    const events = await vi.waitFor(
      async () => {
        const r = await aws('logs', 'get-log-events', '--log-group-name', '/berth/e2e', '--log-stream-name', STREAM, '--start-from-head');
        expect(r.code, r.stderr).toBe(0);
        expect(r.json.events.map((e: { message: string }) => e.message)).toEqual(expected);
        return r.json;
      },
      { timeout: 30_000, interval: 300 },
    );
    expect(events.nextForwardToken).toMatch(/^f\/\d{56}$/);
    await shipper.finish('rt-e2e');
    await shipper.stop();
    client.destroy();

    const groups = await aws('logs', 'describe-log-groups', '--log-group-name-prefix', '/berth/');
    expect(groups.json.logGroups).toEqual([expect.objectContaining({ logGroupName: '/berth/e2e', storedBytes: Buffer.byteLength(expected.join('')) })]);
    const streams = await aws('logs', 'describe-log-streams', '--log-group-name', '/berth/e2e', '--order-by', 'LastEventTime', '--descending');
    expect(streams.json.logStreams.map((s: { logStreamName: string }) => s.logStreamName)).toEqual([STREAM]);
    const filtered = await aws('logs', 'filter-log-events', '--log-group-name', '/berth/e2e', '--filter-pattern', 'ERROR');
    expect(filtered.json.events.map((e: { message: string; logStreamName: string }) => [e.logStreamName, e.message])).toEqual([
      [STREAM, 'ERROR: upstream refused the connection'],
    ]);
  });

  it('answers the AWS CLI with CloudWatch Logs errors', async () => {
    const missing = await aws('logs', 'get-log-events', '--log-group-name', 'nope', '--log-stream-name', 'x');
    expect(missing.code).toBe(254);
    expect(missing.stderr).toMatch(/\(ResourceNotFoundException\) when calling the GetLogEvents operation.*: The specified log group does not exist\./);
    const days = await aws('logs', 'put-retention-policy', '--log-group-name', '/berth/e2e', '--retention-in-days', '2');
    expect(days.stderr).toMatch(/\(InvalidParameterException\)/);
    const dup = await aws('logs', 'create-log-group', '--log-group-name', '/berth/e2e');
    expect(dup.stderr).toMatch(/\(ResourceAlreadyExistsException\)/);
  });

  it('keeps acknowledged events across kill -9', async () => {
    const put = await aws('logs', 'put-log-events', '--log-group-name', '/berth/e2e', '--log-stream-name', STREAM, '--log-events', `timestamp=${Date.now()},message=acked before the crash`);
    expect(put.code, put.stderr).toBe(0);
    expect(await server.kill('SIGKILL')).toBeNull();
    server = await startBerthServer(dataDir);
    const r = await aws('logs', 'get-log-events', '--log-group-name', '/berth/e2e', '--log-stream-name', STREAM, '--limit', '1');
    expect(r.json.events.map((e: { message: string }) => e.message)).toEqual(['acked before the crash']);
  });

  it('berth logs: help, and the refusals it can meet without an agent', async () => {
    const help = await berth(server, ['logs', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: berth logs \[options\] <task>/);
    expect(help.stdout).toContain('--follow');

    // No --endpoint and no BERTH_ENDPOINT: berth's default address, where nothing listens here; the error says what to do.
    const noEndpoint = await berth(server, ['logs', TASK_ID]);
    expect(noEndpoint.code).toBe(1);
    expect(noEndpoint.stderr).toMatch(/cannot reach berth at http:\/\/127\.0\.0\.1:7400 .*--endpoint URL \(or set BERTH_ENDPOINT\)/);

    const noCluster = await berth(server, ['logs', '--endpoint', server.url, TASK_ID]);
    expect(noCluster).toMatchObject({ code: 1, stderr: "berth: cluster 'default' not found\n" });
    expect((await aws('ecs', 'create-cluster')).code).toBe(0);
    const noTask = await berth(server, ['logs', '--endpoint', server.url, TASK_ID]);
    expect(noTask).toMatchObject({ code: 1, stderr: `berth: task '${TASK_ID}' not found in cluster 'default'\n` });
    const since = await berth(server, ['logs', '--endpoint', server.url, '--since', 'yesterday', TASK_ID]);
    expect(since.stderr).toMatch(/--since: 'yesterday' is not a duration/);
  });
});
