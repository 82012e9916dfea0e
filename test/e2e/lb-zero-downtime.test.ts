/**
 * Zero-downtime deploys, proven (issue 14 item 5), and the data plane surviving kill -9: the built `berth server`,
 * one real `berth agent` running busybox httpd tasks (bridge, `hostPort 0`: dynamic host ports; each answers
 * "<revision> <hostname>", the hostname being its container's runtime id cut to 12), a real `berth lb` with a real
 * HAProxy, the service's tasks registered as `instance` targets (the agent's berth.host-address and the dynamic
 * port) of an ALB's target group, and a bounded keep-alive load (~1,500 requests/s) through the load balancer the
 * whole time:
 *  - a rolling deployment (minimumHealthyPercent 100, maximumPercent 200) to a new revision: zero non-2xx, zero
 *    connection errors, and afterwards every answer comes from the new revision;
 *  - a scale-in from 4 to 1: zero non-2xx, zero connection errors; a draining task shows DEACTIVATING/STOPPED;
 *  - StopTask of one of them: DEACTIVATING (desired STOPPED) while its target drains, stopped after the delay;
 *  - kill -9 of HAProxy: berth lb restarts it, traffic resumes by itself (the outage is printed); kill -9 of
 *    `berth lb` (HAProxy left serving), a new one started at once: it takes the old HAProxy's listening sockets
 *    and soft-stops it, no request fails. After each, every target is healthy again and every task gets traffic.
 */
import { join } from 'node:path';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyPaths } from '../../src/lb/haproxy-process.js';
import { runtimeCommand } from '../../src/lb/haproxy-runtime.js';
import { pidsOfShowProc, rolesOfShowProc, stopStaleHaproxy } from '../../src/lb/stale-haproxy.js';
import { freePort, labDir, requireHaproxy } from '../../src/lb/testing/lb-lab.js';
import { startBerthLb, type BerthLbProcess } from './support/berth-lb.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';
import { startLoad, type Load, type LoadResult } from './support/http-load.js';

const isRoot = process.getuid?.() === 0;
const REGION = 'us-east-1';
const SERVICE = 'web';
const RATE = 1500;

/** What a load run must show: no failure of any kind. */
const clean = (r: LoadResult) => ({ statuses: Object.keys(r.statuses).filter((s) => s[0] !== '2'), errors: r.errors, failures: r.failures });
const NONE = { statuses: [], errors: {}, failures: 0 };

describe.runIf(isRoot)('zero-downtime deploys behind an ALB, and the data plane surviving kill -9', () => {
  let cluster: TestCluster;
  let lab: ReturnType<typeof labDir>;
  let elb: ElasticLoadBalancingV2Client;
  let lb: BerthLbProcess;
  let load: Load | undefined;
  let tgArn = '';
  let listenerPort = 0;

  const lbOptions = () => ({ endpoint: cluster.server.url, keys: cluster.server.keys, dataDir: join(lab.dir, 'lb'), region: REGION });
  const targets = async (): Promise<TargetHealthDescription[]> => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? [];
  const states = async () => (await targets()).map((t) => t.TargetHealth?.State).sort();
  const service = async () => (await cluster.ecs.send(new DescribeServicesCommand({ services: [SERVICE] }))).services![0]!;
  async function tasks(desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING'): Promise<Task[]> {
    const { taskArns = [] } = await cluster.ecs.send(new ListTasksCommand({ serviceName: SERVICE, desiredStatus }));
    return taskArns.length ? ((await cluster.ecs.send(new DescribeTasksCommand({ tasks: taskArns }))).tasks ?? []) : [];
  }
  /** "<revision> <hostname>" of each RUNNING task (what its httpd answers; a bridge container's hostname is its runtime id's first 12). */
  const answers = async () => (await tasks()).filter((t) => t.lastStatus === 'RUNNING').map((t) => `${t.taskDefinitionArn!.endsWith(':1') ? 'v1' : 'v2'} ${t.containers![0]!.runtimeId!.slice(0, 12)}`);
  const hostPortOf = (t: Task) => t.containers![0]!.networkBindings!.find((b) => b.containerPort === 8080)!.hostPort!;

  /** Converged: `n` RUNNING tasks of `revision`, nothing else left, their `n` targets healthy. */
  async function settled(n: number, revision: string) {
    await expect
      .poll(
        async () => {
          const s = await service();
          const running = await tasks();
          return {
            deployments: s.deployments!.length,
            running: running.filter((t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn!.endsWith(revision)).length,
            others: running.length - running.filter((t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn!.endsWith(revision)).length,
            targets: await states(),
          };
        },
        { timeout: 90_000, interval: 500 },
      )
      .toEqual({ deployments: 1, running: n, others: 0, targets: Array(n).fill('healthy') });
  }

  /** Wait until the load has made `n` more requests since its mark. */
  const atLeast = (n: number) => expect.poll(() => load!.sinceMark().requests, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(n);

  beforeAll(async () => {
    requireHaproxy();
    lab = labDir();
    cluster = await startTestCluster();
    await cluster.startAgent({ env: { BERTH_CPU_UNITS: '4096', BERTH_MEMORY_MIB: '2048', ECS_CONTAINER_STOP_TIMEOUT: '2s' } });
    elb = new ElasticLoadBalancingV2Client({ endpoint: cluster.server.url, region: REGION, credentials: cluster.server.keys, maxAttempts: 3 });
    lb = startBerthLb(lbOptions());

    for (const revision of ['v1', 'v2']) {
      await cluster.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: SERVICE,
          containerDefinitions: [
            {
              name: 'httpd',
              image: cluster.image,
              memory: 32,
              environment: [{ name: 'REVISION', value: revision }],
              command: ['sh', '-c', 'mkdir -p /www && echo "$REVISION $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'],
              portMappings: [{ containerPort: 8080, hostPort: 0 }],
            },
          ],
        }),
      );
    }
    const lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'zero', Subnets: ['subnet-0a', 'subnet-0b'] }))).LoadBalancers![0]!.LoadBalancerArn!;
    tgArn = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: 'zero-web',
          Protocol: 'HTTP',
          Port: 8080,
          TargetType: 'instance',
          HealthCheckPath: '/',
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
          HealthyThresholdCount: 2,
          UnhealthyThresholdCount: 2,
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }] }));
    listenerPort = await freePort();
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Port: listenerPort, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }));
  }, 120_000);

  afterAll(async () => {
    const final = await load?.stop();
    if (final) console.log(`load over the whole file: ${JSON.stringify(final)}`);
    if (process.env.LB_E2E_DEBUG) console.log(lb?.output());
    if (cluster) await cluster.ecs.send(new UpdateServiceCommand({ service: SERVICE, desiredCount: 0 })).catch(() => {});
    await lb?.stop();
    if (lab) await stopStaleHaproxy(join(lab.dir, 'lb')).catch(() => []);
    elb?.destroy();
    await cluster?.stop();
    lab?.cleanup();
  }, 120_000);

  it('the service behind the ALB: both tasks registered, healthy and answering through berth lb', async () => {
    await cluster.ecs.send(
      new CreateServiceCommand({
        serviceName: SERVICE,
        taskDefinition: `${SERVICE}:1`,
        desiredCount: 2,
        loadBalancers: [{ targetGroupArn: tgArn, containerName: 'httpd', containerPort: 8080 }],
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      }),
    );
    await settled(2, ':1');
    load = startLoad({ url: `http://127.0.0.1:${listenerPort}/`, ratePerSecond: RATE, connections: 8 });
    // Both tasks answer through the load balancer before anything is measured.
    await expect.poll(() => Object.keys(load!.snapshot().bodies).sort(), { timeout: 20_000, interval: 200 }).toEqual((await answers()).sort());
    expect(clean(load.snapshot())).toEqual(NONE);
  }, 120_000);

  it('a rolling deployment (min 100 %, max 200 %) to a new revision loses no request; then only the new revision answers', async () => {
    load!.mark();
    const started = Date.now();
    await cluster.ecs.send(new UpdateServiceCommand({ service: SERVICE, taskDefinition: `${SERVICE}:2` }));
    await settled(2, ':2');
    const during = load!.sinceMark();
    console.log(`rolling deployment: ${Date.now() - started} ms, ${during.requests} requests, ${JSON.stringify(during.bodies)}`);
    expect(clean(during), JSON.stringify(during)).toEqual(NONE);
    expect(Object.keys(during.bodies).some((b) => b.startsWith('v2'))).toBe(true);

    load!.mark();
    await atLeast(1000);
    const after = load!.sinceMark();
    expect(clean(after)).toEqual(NONE);
    expect(Object.keys(after.bodies).sort()).toEqual((await answers()).sort());
    expect(Object.keys(after.bodies).every((b) => b.startsWith('v2 '))).toBe(true);
  }, 150_000);

  it('a scale-in from 4 to 1 loses no request; a draining task shows DEACTIVATING, desired STOPPED', async () => {
    await cluster.ecs.send(new UpdateServiceCommand({ service: SERVICE, desiredCount: 4 }));
    await settled(4, ':2');
    load!.mark();
    await cluster.ecs.send(new UpdateServiceCommand({ service: SERVICE, desiredCount: 1 }));
    // While their targets drain, the three tasks leaving show what ECS shows.
    await expect
      .poll(async () => (await tasks('STOPPED')).filter((t) => t.lastStatus === 'DEACTIVATING').length, { timeout: 20_000, interval: 200 })
      .toBe(3);
    await settled(1, ':2');
    const during = load!.sinceMark();
    console.log(`scale-in 4 → 1: ${during.requests} requests, ${JSON.stringify(during.bodies)}`);
    expect(clean(during), JSON.stringify(during)).toEqual(NONE);
    await cluster.ecs.send(new UpdateServiceCommand({ service: SERVICE, desiredCount: 2 }));
    await settled(2, ':2');
  }, 150_000);

  it('StopTask of a task behind the ALB: DEACTIVATING while its target drains, then stopped; replaced; no request lost', async () => {
    const [victim] = (await tasks()).filter((t) => t.lastStatus === 'RUNNING');
    load!.mark();
    const stoppedAt = Date.now();
    const { task } = await cluster.ecs.send(new StopTaskCommand({ task: victim!.taskArn!, reason: 'zero-downtime e2e' }));
    expect([task!.lastStatus, task!.desiredStatus, task!.stopCode]).toEqual(['DEACTIVATING', 'STOPPED', 'UserInitiated']);
    const port = hostPortOf(victim!);
    await expect.poll(async () => (await targets()).find((t) => t.Target!.Port === port)?.TargetHealth?.State, { timeout: 10_000, interval: 200 }).toBe('draining');
    const lastOf = async () => (await cluster.ecs.send(new DescribeTasksCommand({ tasks: [victim!.taskArn!] }))).tasks![0]!;
    expect((await lastOf()).lastStatus).toBe('DEACTIVATING');
    await expect.poll(async () => (await lastOf()).lastStatus, { timeout: 30_000, interval: 200 }).toBe('STOPPED');
    // Not stopped before the deregistration delay (5 s) was over.
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(5_000);
    expect(await lastOf()).toMatchObject({ stoppedReason: 'zero-downtime e2e', stopCode: 'UserInitiated' });
    await settled(2, ':2');
    const during = load!.sinceMark();
    expect(clean(during), JSON.stringify(during)).toEqual(NONE);
  }, 120_000);

  /**
   * After a kill at `killedAt`: sample the load every 10 ms until it has failed and then answered 2xx for 2 s with no
   * new failure; the outage is from the first failure to the first 2xx after the last one. Then every target is
   * healthy again and every task gets traffic with no failure.
   */
  async function resumed(what: string, killedAt: number) {
    const samples: { at: number; ok: number; failed: number }[] = [];
    const sample = () => {
      const s = load!.snapshot();
      samples.push({ at: Date.now(), ok: s.statuses[200] ?? 0, failed: s.failures });
    };
    sample();
    const base = samples[0]!.failed;
    const deadline = Date.now() + 60_000;
    let lastFailure = -1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      sample();
      const i = samples.length - 1;
      if (samples[i]!.failed > samples[i - 1]!.failed) lastFailure = i;
      if (lastFailure >= 0 && samples[i]!.at - samples[lastFailure]!.at >= 2_000) break;
      if (Date.now() > deadline) throw new Error(`${what}: no outage and recovery seen in 60 s: ${JSON.stringify(load!.snapshot())}\n${lb.output()}`);
    }
    const firstFailure = samples.findIndex((x) => x.failed > base);
    const back = samples.findIndex((x, i) => i > lastFailure && x.ok > samples[lastFailure]!.ok);
    const outage = samples[back]!.at - samples[firstFailure - 1]!.at;
    console.log(
      `${what}: ${samples[lastFailure]!.failed - base} requests failed; outage ${outage} ms (first failure ${samples[firstFailure]!.at - killedAt} ms after the kill, ` +
        `2xx again ${samples[back]!.at - killedAt} ms after it)`,
    );
    await allServing();
    return outage;
  }

  /** Every target healthy in the API, and every task answering through the load balancer with no failure. */
  async function allServing() {
    await expect.poll(states, { timeout: 30_000, interval: 500 }).toEqual(['healthy', 'healthy']);
    load!.mark();
    await atLeast(1000);
    const after = load!.sinceMark();
    expect(clean(after), lb.output()).toEqual(NONE);
    expect(Object.keys(after.bodies).sort()).toEqual((await answers()).sort());
  }

  it('kill -9 of HAProxy under load: berth lb restarts it, traffic resumes, no target is lost', async () => {
    const pids = pidsOfShowProc(await runtimeCommand(haproxyPaths(lb.dataDir).masterSocket, 'show proc', 2_000));
    expect(pids.length).toBeGreaterThanOrEqual(2);
    const killedAt = Date.now();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    expect(await resumed('kill -9 HAProxy', killedAt)).toBeLessThan(10_000);
  }, 90_000);

  it('kill -9 of berth lb under load: the next berth lb takes the listeners of the HAProxy left behind, no request fails, no target is lost', async () => {
    const left = rolesOfShowProc(await runtimeCommand(haproxyPaths(lb.dataDir).masterSocket, 'show proc', 2_000));
    expect(left.workers.length).toBeGreaterThanOrEqual(1);
    load!.mark();
    await lb.stop('SIGKILL');
    const killedAt = Date.now();
    lb = startBerthLb(lbOptions());
    await expect.poll(() => /took over the listeners of the HAProxy a previous berth lb left running/.test(lb.output()), { timeout: 30_000, interval: 50 }).toBe(true);
    const tookOver = Date.now() - killedAt;
    // The old HAProxy, soft-stopped, goes once its clients moved (each gets `Connection: close` on its next answer).
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(() => [left.master!, ...left.workers].filter(alive), { timeout: 30_000, interval: 50 }).toEqual([]);
    const during = load!.sinceMark();
    console.log(`kill -9 berth lb: new HAProxy serving ${tookOver} ms after the kill, the old one gone ${Date.now() - killedAt} ms after it; ${during.requests} requests, ${during.failures} failed`);
    expect(clean(during), lb.output()).toEqual(NONE);
    await allServing();
  }, 120_000);
});
