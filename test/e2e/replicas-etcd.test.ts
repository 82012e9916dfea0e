import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  ECSClient,
  ListTaskDefinitionFamiliesCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/testing/docker-registry.js';
import { startEtcdCluster, type EtcdCluster } from '../../src/testing/etcd.js';
import { REPO_ROOT, startBerthServer, type BerthServerProcess } from './support/berth-server.js';

/**
 * `berth server --store etcd`, the built CLI as separate processes on a real etcd: how it refuses to start
 * without etcd, and three replicas sharing one etcd and one shared directory (the way docs/ha.md starts them).
 */

const CLI = join(REPO_ROOT, 'dist/cli/main.js');

/** Run the built CLI to its exit; its status and stderr. */
function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('berth server --store etcd refuses to start without what it needs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-etcd-start-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('etcd unreachable: a clear error naming the endpoints, exit status 1', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const endpoints = `http://127.0.0.1:${p1},http://127.0.0.1:${p2}`;
    const started = Date.now();
    const { code, stderr } = await runCli(['server', '--listen', '127.0.0.1:0', '--data-dir', dir, '--store', 'etcd', '--etcd-endpoints', endpoints, '--shared-dir', dir]);
    expect(code).toBe(1);
    expect(stderr).toContain(`etcd at http://127.0.0.1:${p1}, http://127.0.0.1:${p2} is not reachable`);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('--store etcd without --shared-dir, or without endpoints: a clear error, exit status 1', async () => {
    const noShared = await runCli(['server', '--listen', '127.0.0.1:0', '--data-dir', dir, '--store', 'etcd', '--etcd-endpoints', 'http://127.0.0.1:2379']);
    expect(noShared.code).toBe(1);
    expect(noShared.stderr).toMatch(/--store etcd needs --shared-dir/);
    const noEndpoints = await runCli(['server', '--listen', '127.0.0.1:0', '--data-dir', dir, '--store', 'etcd', '--shared-dir', dir]);
    expect(noEndpoints.code).toBe(1);
    expect(noEndpoints.stderr).toMatch(/--etcd-endpoints/);
  });
});

describe('three replicas on one etcd', () => {
  let etcd: EtcdCluster;
  let root: string;
  let shared: string;
  const replicas: BerthServerProcess[] = [];

  beforeAll(async () => {
    etcd = await startEtcdCluster();
    root = mkdtempSync(join(tmpdir(), 'berth-replicas-'));
    shared = join(root, 'shared');
    // All three at once: exactly one creates the shared credentials, the others read them.
    replicas.push(
      ...(await Promise.all(
        [0, 1, 2].map((i) =>
          startBerthServer(join(root, `replica-${i}`), ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--shared-dir', shared, '--replica-id', `r${i}`], {}, { credentialsDir: shared }),
        ),
      )),
    );
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    await etcd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const health = async (r: BerthServerProcess) => (await (await fetch(`${r.url}/healthz`)).json()) as { role: string; store: string; replica: string };
  const live = () => replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  const leaders = async () => (await Promise.all(live().map(async (r) => ({ r, h: await health(r) })))).filter((x) => x.h.role === 'leader').map((x) => x.r);

  it('serve with the same keys, read each other\'s writes (store and shared directory), agree on one leader, and fail over within the lease TTL when the leader is killed', async () => {
    expect(new Set(replicas.map((r) => r.keys.accessKeyId)).size).toBe(1);
    await expect.poll(async () => (await leaders()).length, { timeout: 10_000, interval: 50 }).toBe(1);
    const [leader] = await leaders();
    expect(await health(leader!)).toMatchObject({ store: 'ok' });

    // A write through one replica is read through another.
    const client = (r: BerthServerProcess) => new ECSClient({ endpoint: r.url, region: 'us-east-1', credentials: r.keys, maxAttempts: 1 });
    const [w, rd] = [client(replicas[0]!), client(replicas[1]!)];
    await w.send(new CreateClusterCommand({ clusterName: 'shared' }));
    expect((await rd.send(new DescribeClustersCommand({ clusters: ['shared'] }))).clusters?.[0]?.status).toBe('ACTIVE');
    w.destroy();
    rd.destroy();
    // Log events too: chunk files in the shared directory, index in etcd.
    const logs = (r: BerthServerProcess) => new CloudWatchLogsClient({ endpoint: r.url, region: 'us-east-1', credentials: r.keys, maxAttempts: 1 });
    const [lw, lr] = [logs(replicas[1]!), logs(replicas[2]!)];
    await lw.send(new CreateLogGroupCommand({ logGroupName: 'g' }));
    await lw.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 's' }));
    await lw.send(new PutLogEventsCommand({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'hello from r1' }] }));
    const { events } = await lr.send(new GetLogEventsCommand({ logGroupName: 'g', logStreamName: 's', startFromHead: true }));
    expect(events?.map((e) => e.message)).toEqual(['hello from r1']);
    lw.destroy();
    lr.destroy();

    const killedAt = Date.now();
    await leader!.kill('SIGKILL');
    await expect.poll(async () => (await leaders()).length, { timeout: 10_000, interval: 50 }).toBe(1);
    const took = Date.now() - killedAt;
    const [next] = await leaders();
    expect(next).not.toBe(leader);
    // The default lease TTL is 5 s (etcd counts whole seconds); a new leader within it plus a re-campaign.
    expect(took).toBeLessThan(7_000);
    console.log(JSON.stringify({ failoverMs: took }));
  });

  it('answers ServiceUnavailableException (503) while etcd is gone, writes nothing half, and recovers by itself when it returns', async () => {
    const [r] = live();
    const ecs = new ECSClient({ endpoint: r!.url, region: 'us-east-1', credentials: r!.keys, maxAttempts: 1 });
    const register = () =>
      ecs.send(new RegisterTaskDefinitionCommand({ family: 'during-outage', containerDefinitions: [{ name: 'c', image: 'busybox', memory: 16 }] }));
    await etcd.kill(0);
    try {
      const started = Date.now();
      const refused = await register().then(
        () => undefined,
        (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e,
      );
      expect(refused).toMatchObject({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } });
      expect(Date.now() - started).toBeLessThan(10_000);
      const health = await fetch(`${r!.url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ store: 'unavailable' });
    } finally {
      await etcd.restart(0);
    }
    // Back by itself: no restart of the replica, no operator action.
    await expect
      .poll(async () => (await ecs.send(new ListTaskDefinitionFamiliesCommand({}))).families, { timeout: 30_000, interval: 250 })
      .toBeDefined();
    // The refused registration left nothing: no family, no revision.
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'during-outage' }))).families).toEqual([]);
    await register();
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'during-outage' }))).families).toEqual(['during-outage']);
    ecs.destroy();
  });
});
