/**
 * Traffic-shifting deployments end to end: the built `berth server`, one real `berth agent` running busybox httpd
 * tasks (awsvpc, `ip` targets, each page naming its revision), a real `berth lb` driving a real HAProxy, and a
 * bounded keep-alive load (test/e2e/support/http-load.ts) through the load balancer's production listener rule the
 * whole time. The strategy goes in with the AWS CLI v2 (CreateService/UpdateService), the rest with the SDKs.
 *
 * - BLUE_GREEN (bake 0): the new revision serves all production traffic, the old stops; zero non-2xx, zero errors.
 * - CANARY 20 % with a 1-minute canary bake: during the bake the share reaching the new revision is 20 ± 5 points;
 *   StopServiceDeployment ROLLBACK puts all traffic back at once; zero non-2xx, zero errors throughout.
 * - LINEAR 34 % steps, 0-minute step bakes: reaches 100 %.
 *
 * The Debian AWS CLI (2.9.19) predates these deploymentConfiguration fields; the CLI is given berth's copy of AWS's
 * current ECS model (models/ecs-2014-11-13.json) through AWS_DATA_PATH, the CLI's own way to load a newer model.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopStaleHaproxy } from '../../src/lb/stale-haproxy.js';
import { freePort, get, requireHaproxy } from '../../src/lb/testing/lb-lab.js';
import { AWS_CLI, hasAwsCli } from './support/aws-cli.js';
import { REPO_ROOT } from './support/berth-server.js';
import { startTestCluster, type TestCluster } from './support/cluster.js';
import { startLoad, type Load, type LoadResult } from './support/http-load.js';

const isRoot = process.getuid?.() === 0;
const CLI = join(REPO_ROOT, 'dist/cli/main.js');
const REGION = 'us-east-1';
const VPC = { awsvpcConfiguration: { subnets: ['subnet-0e2e'], securityGroups: ['sg-0e2e'] } };
const RATE = 800;

describe.runIf(isRoot)('traffic-shifting deployments behind berth lb', () => {
  let cluster: TestCluster;
  let elb: ElasticLoadBalancingV2Client;
  let lb: ChildProcess | undefined;
  let lbOutput = '';
  let lbDir = '';
  let dataPath = '';
  let port = 0;
  let tgBlue = '';
  let tgGreen = '';
  let prodRule = '';
  let testRule = '';
  const service = 'web';

  /** The AWS CLI v2 with the current ECS model. */
  const aws = (...args: string[]) =>
    new Promise<any>((resolve, reject) => {
      execFile(
        AWS_CLI,
        [...args, '--endpoint-url', cluster.server.url, '--output', 'json'],
        {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            AWS_SHARED_CREDENTIALS_FILE: cluster.server.credentialsFile,
            AWS_CONFIG_FILE: '/dev/null',
            AWS_PROFILE: 'berth',
            AWS_DEFAULT_REGION: REGION,
            AWS_PAGER: '',
            AWS_MAX_ATTEMPTS: '1',
            AWS_DATA_PATH: dataPath,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => (error ? reject(new Error(`aws ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim() ? JSON.parse(stdout) : undefined)),
      );
    });

  const ecs = () => cluster.ecs;
  const describe1 = async () => (await ecs().send(new DescribeServicesCommand({ services: [service] }))).services![0]!;
  /** The service deployment the service is on now (its PRIMARY deployment's). */
  const current = async (): Promise<ServiceDeployment> => {
    const arn = (await describe1()).currentServiceDeployment!;
    return (await ecs().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
  };
  const deploymentStatus = async (arn: string) => (await ecs().send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
  /** Until the load sees only `revision` over a fresh window of at least `n` answers. */
  const servesOnly = async (load: Load, revision: string, timeout = 90_000) => {
    await expect
      .poll(
        async () => {
          load.mark();
          const start = Date.now();
          while (load.sinceMark().requests < 400 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 100));
          return Object.keys(load.sinceMark().bodies);
        },
        { timeout, interval: 200 },
      )
      .toEqual([revision]);
  };
  const noFailures = (r: LoadResult) => {
    expect(r.failures, JSON.stringify(r)).toBe(0);
    expect(r.errors).toEqual({});
  };
  const startTraffic = () => startLoad({ url: `http://127.0.0.1:${port}/`, connections: 8, ratePerSecond: RATE });

  beforeAll(async () => {
    requireHaproxy();
    if (!hasAwsCli) throw new Error(`the AWS CLI v2 is not at ${AWS_CLI}`);
    cluster = await startTestCluster();
    dataPath = join(cluster.dir, 'aws-data');
    mkdirSync(join(dataPath, 'ecs', '2014-11-13'), { recursive: true });
    copyFileSync(join(REPO_ROOT, 'models', 'ecs-2014-11-13.json'), join(dataPath, 'ecs', '2014-11-13', 'service-2.json'));
    await cluster.startAgent({ env: { BERTH_MEMORY_MIB: '2048', BERTH_CPU_UNITS: '2048' } });
    elb = new ElasticLoadBalancingV2Client({ endpoint: cluster.server.url, region: REGION, credentials: cluster.server.keys, maxAttempts: 3 });

    // Two revisions of a page that names its revision.
    for (const rev of ['v1', 'v2']) {
      await ecs().send(
        new RegisterTaskDefinitionCommand({
          family: 'page',
          networkMode: 'awsvpc',
          containerDefinitions: [
            {
              name: 'app',
              image: cluster.image,
              memory: 32,
              portMappings: [{ containerPort: 8080 }],
              command: ['sh', '-c', `mkdir -p /tmp/www && echo ${rev} > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www`],
            },
          ],
        }),
      );
    }

    // An ALB: a production rule (every path) and a test rule (header X-Test: 1), both forwarding to blue to begin with.
    const lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'shift', Subnets: ['subnet-0a', 'subnet-0b'] }))).LoadBalancers![0]!.LoadBalancerArn!;
    const group = async (name: string) => {
      const arn = (
        await elb.send(
          new CreateTargetGroupCommand({
            Name: name,
            Protocol: 'HTTP',
            Port: 8080,
            TargetType: 'ip',
            HealthCheckPath: '/',
            HealthCheckIntervalSeconds: 5,
            HealthCheckTimeoutSeconds: 2,
            HealthyThresholdCount: 2,
            UnhealthyThresholdCount: 2,
          }),
        )
      ).TargetGroups![0]!.TargetGroupArn!;
      await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3' }] }));
      return arn;
    };
    tgBlue = await group('shift-blue');
    tgGreen = await group('shift-green');
    port = await freePort();
    const listener = (
      await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Port: port, Protocol: 'HTTP', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }))
    ).Listeners![0]!.ListenerArn!;
    const rule = async (priority: number, conditions: object[]) =>
      (await elb.send(new CreateRuleCommand({ ListenerArn: listener, Priority: priority, Conditions: conditions as never, Actions: [{ Type: 'forward', TargetGroupArn: tgBlue }] }))).Rules![0]!.RuleArn!;
    testRule = await rule(5, [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Test', Values: ['1'] } }]);
    prodRule = await rule(10, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }]);

    lbDir = join(cluster.dir, 'lb');
    lb = spawn(process.execPath, [CLI, 'lb', '--endpoint', cluster.server.url, '--address', '127.0.0.1', '--node-id', 'shift-e2e', '--data-dir', lbDir, '--region', REGION, '--log-level', 'warn'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: cluster.server.keys.accessKeyId, AWS_SECRET_ACCESS_KEY: cluster.server.keys.secretAccessKey, AWS_SESSION_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    lb.stdout!.on('data', (d: Buffer) => (lbOutput += d.toString()));
    lb.stderr!.on('data', (d: Buffer) => (lbOutput += d.toString()));
  }, 120_000);

  afterAll(async () => {
    if (process.env.LB_E2E_DEBUG) console.log(lbOutput);
    await ecs()?.send(new UpdateServiceCommand({ service, desiredCount: 0 })).catch(() => {});
    if (lb && lb.exitCode === null) {
      const gone = new Promise((r) => lb!.once('exit', r));
      lb.kill('SIGTERM');
      await gone;
    }
    if (lbDir) await stopStaleHaproxy(lbDir).catch(() => []);
    elb?.destroy();
    await cluster?.stop();
  }, 120_000);

  it('BLUE_GREEN through the AWS CLI: production moves to the new revision with no failed request, and the groups swap roles', async () => {
    const created = await aws(
      'ecs', 'create-service', '--service-name', service, '--task-definition', 'page:1', '--desired-count', '2',
      '--network-configuration', JSON.stringify(VPC),
      '--load-balancers', JSON.stringify([{ targetGroupArn: tgBlue, containerName: 'app', containerPort: 8080, advancedConfiguration: { alternateTargetGroupArn: tgGreen, productionListenerRule: prodRule, testListenerRule: testRule } }]),
      '--deployment-configuration', JSON.stringify({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 }),
    );
    expect(created.service.deploymentConfiguration).toMatchObject({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 });
    expect(created.service.loadBalancers[0].advancedConfiguration).toMatchObject({ alternateTargetGroupArn: tgGreen, productionListenerRule: prodRule });
    // The first revision goes straight into production (nothing to shift from).
    await expect.poll(async () => (await current()).status, { timeout: 90_000, interval: 500 }).toBe('SUCCESSFUL');
    const load = startTraffic();
    await servesOnly(load, 'v1');

    const started = Date.now();
    await aws('ecs', 'update-service', '--service', service, '--task-definition', 'page:2');
    const sd = await current();
    expect(sd.deploymentConfiguration?.strategy).toBe('BLUE_GREEN');
    await expect.poll(async () => (await deploymentStatus(sd.serviceDeploymentArn!)).status, { timeout: 120_000, interval: 500 }).toBe('SUCCESSFUL');
    const took = Date.now() - started;
    await servesOnly(load, 'v2');
    const result = await load.stop();
    console.log(`blue/green: ${result.requests} requests in all, ${JSON.stringify(result.bodies)}; deployment took ${took} ms`);
    noFailures(result);
    expect(result.bodies.v1).toBeGreaterThan(0);
    expect(result.bodies.v2).toBeGreaterThan(0);
    const done = await deploymentStatus(sd.serviceDeploymentArn!);
    expect(done).toMatchObject({ lifecycleStage: 'CLEAN_UP', targetServiceRevision: { requestedProductionTrafficWeight: 100 } });
    // The production rule now forwards to the group that was the alternate.
    const rules = (await elb.send(new DescribeRulesCommand({ RuleArns: [prodRule] }))).Rules![0]!;
    expect(rules.Actions![0]!.ForwardConfig!.TargetGroups!.filter((g) => g.Weight! > 0).map((g) => g.TargetGroupArn)).toEqual([tgGreen]);
  }, 300_000);

  it('CANARY 20 % for a minute: the new revision gets 20 ± 5 % of requests, then StopServiceDeployment ROLLBACK puts it all back at once, no failed request', async () => {
    const load = startTraffic();
    await servesOnly(load, 'v2');
    await aws(
      'ecs', 'update-service', '--service', service, '--task-definition', 'page:1',
      '--deployment-configuration', JSON.stringify({ strategy: 'CANARY', bakeTimeInMinutes: 0, canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 1 } }),
    );
    const sd = await current();
    // In the canary once the new revision is healthy (in the group the old one left) and the weights are set.
    await expect.poll(async () => (await deploymentStatus(sd.serviceDeploymentArn!)).lifecycleStage, { timeout: 90_000, interval: 500 }).toBe('PRODUCTION_TRAFFIC_SHIFT');
    const inCanary = await deploymentStatus(sd.serviceDeploymentArn!);
    expect(inCanary.targetServiceRevision).toMatchObject({ requestedProductionTrafficWeight: 20, requestedTestTrafficWeight: 100 });
    // The test listener rule (header X-Test: 1) reaches only the new revision.
    await expect.poll(async () => (await get(port, '/', { 'x-test': '1' })).body.trim(), { timeout: 10_000, interval: 100 }).toBe('v1');
    const tested = await Promise.all(Array.from({ length: 20 }, () => get(port, '/', { 'x-test': '1' })));
    expect(new Set(tested.map((r) => r.body.trim()))).toEqual(new Set(['v1']));
    // HAProxy takes the rule change at its next reload: wait for v1 to appear, then measure a fresh window.
    await expect.poll(() => load.snapshot().bodies.v1 ?? 0, { timeout: 10_000, interval: 100 }).toBeGreaterThan(0);
    load.mark();
    const windowStart = Date.now();
    while (Date.now() - windowStart < 15_000) await new Promise((r) => setTimeout(r, 250));
    const window = load.sinceMark();
    const share = ((window.bodies.v1 ?? 0) / ((window.bodies.v1 ?? 0) + (window.bodies.v2 ?? 0))) * 100;
    console.log(`canary: ${window.requests} requests in ${Date.now() - windowStart} ms, ${share.toFixed(1)} % to the new revision (canaryPercent 20)`);
    expect(share).toBeGreaterThanOrEqual(15);
    expect(share).toBeLessThanOrEqual(25);
    // Still in the canary bake (1 minute): roll back.
    expect((await deploymentStatus(sd.serviceDeploymentArn!)).lifecycleStage).toBe('PRODUCTION_TRAFFIC_SHIFT');
    const stoppedAt = Date.now();
    await ecs().send(new StopServiceDeploymentCommand({ serviceDeploymentArn: sd.serviceDeploymentArn!, stopType: 'ROLLBACK' }));
    await servesOnly(load, 'v2', 30_000);
    console.log(`rollback: only the old revision answers ${Date.now() - stoppedAt} ms after StopServiceDeployment`);
    await expect.poll(async () => (await deploymentStatus(sd.serviceDeploymentArn!)).status, { timeout: 60_000, interval: 500 }).toBe('ROLLBACK_SUCCESSFUL');
    const result = await load.stop();
    console.log(`canary + rollback: ${result.requests} requests in all, ${JSON.stringify(result.bodies)}`);
    noFailures(result);
    const listed = await ecs().send(new ListServiceDeploymentsCommand({ service }));
    expect(listed.serviceDeployments!.map((d) => d.status)).toEqual(['ROLLBACK_SUCCESSFUL', 'SUCCESSFUL', 'SUCCESSFUL']);
  }, 300_000);

  it('LINEAR 34 % steps with no step bake reaches 100 %', async () => {
    const load = startTraffic();
    await aws(
      'ecs', 'update-service', '--service', service, '--task-definition', 'page:1',
      '--deployment-configuration', JSON.stringify({ strategy: 'LINEAR', bakeTimeInMinutes: 0, linearConfiguration: { stepPercent: 34, stepBakeTimeInMinutes: 0 } }),
    );
    const sd = await current();
    await expect.poll(async () => (await deploymentStatus(sd.serviceDeploymentArn!)).status, { timeout: 120_000, interval: 500 }).toBe('SUCCESSFUL');
    expect((await deploymentStatus(sd.serviceDeploymentArn!)).targetServiceRevision).toMatchObject({ requestedProductionTrafficWeight: 100 });
    await servesOnly(load, 'v1');
    const result = await load.stop();
    console.log(`linear: ${result.requests} requests in all, ${JSON.stringify(result.bodies)}`);
    noFailures(result);
  }, 300_000);
});
