import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import type { HostLab } from './support/hosts.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';
import { containerOutput } from './support/task-output.js';

const isRoot = process.getuid?.() === 0;
const NETWORK = 'awsvpcConfiguration={subnets=[subnet-0e2e],securityGroups=[sg-0e2e]}';

/**
 * Fargate services: `aws ecs create-service --launch-type FARGATE` on a Fargate pool host (a simulated host whose
 * agent runs with BERTH_FARGATE=true): the service's tasks run under gVisor and reach a steady state, a new revision
 * rolls out, and a FARGATE/FARGATE_SPOT strategy splits the tasks base-then-weight as ECS documents.
 */
describe.runIf(isRoot)('Fargate services on gVisor', () => {
  if (!hasAwsCli) throw new Error('the AWS CLI v2 (/usr/bin/aws) is needed for this test');
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-fargate-svc-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let image: string;

  beforeAll(async () => {
    ({ lab, registry, image, server, ecs, logs } = await startLabControlPlane(dir));
    agent = await startLabAgent({
      server,
      lab,
      dir,
      bridge,
      env: { BERTH_FARGATE: 'true', BERTH_MEMORY_MIB: '4096', BERTH_CPU_UNITS: '4096', BERTH_METADATA_ADDRESS: 'off', BERTH_INSECURE_REGISTRIES: registry.host },
    });
  }, 180_000);

  afterAll(async () => {
    // The services go first (their tasks would otherwise be started again), then the lab.
    for (const service of ['fg-web', 'fg-split']) await ecs?.send(new DeleteServiceCommand({ service, force: true })).catch(() => {});
    await until(async () => ((await ecs.send(new ListTasksCommand({ desiredStatus: 'RUNNING' }))).taskArns ?? []).length === 0, 60_000).catch(() => {});
    await stopLab({ dir, ecs, agent, clients: [logs], server, registries: [registry], lab });
  }, 120_000);

  const cli = (args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const context = () => agent.stderr().slice(-3000);

  async function until(check: () => Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${what} not met in ${timeoutMs} ms\n${context()}`);
  }

  const describeService = async (name: string): Promise<Service> => (await ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0]!;

  /** The service once its one deployment (of `revision`) is COMPLETED with `count` tasks RUNNING. */
  async function steady(name: string, count: number, revision: number, timeoutMs = 120_000): Promise<Service> {
    let last: Service | undefined;
    await until(
      async () => {
        last = await describeService(name);
        const d = last.deployments ?? [];
        return d.length === 1 && d[0]!.rolloutState === 'COMPLETED' && d[0]!.taskDefinition!.endsWith(`:${revision}`) && last.runningCount === count;
      },
      timeoutMs,
      `service ${name} steady at revision ${revision}`,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nlast: ${JSON.stringify({ deployments: last?.deployments, events: last?.events?.slice(0, 5) })}`);
    });
    return last!;
  }

  async function serviceTasks(name: string): Promise<Task[]> {
    const { taskArns = [] } = await ecs.send(new ListTasksCommand({ serviceName: name }));
    return taskArns.length ? ((await ecs.send(new DescribeTasksCommand({ tasks: taskArns }))).tasks ?? []) : [];
  }

  /** A Fargate task definition (0.25 vCPU, 512 MiB) whose container says which kernel it has, then waits. */
  const register = (family: string, version: string) =>
    ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: 'probe',
            image,
            command: ['sh', '-c', [`echo "VERSION ${version}"`, 'echo "DMESG $(dmesg | tr "\\n" " ")"', 'echo READY', 'exec sleep 3600'].join('\n')],
            stopTimeout: 2,
          },
        ],
      }),
    );

  it('runs a FARGATE service (aws ecs create-service --launch-type FARGATE) under gVisor to a steady state, then rolls out a new revision', async () => {
    await register('fg-web', 'one');
    const noNetwork = await cli(['ecs', 'create-service', '--service-name', 'fg-web', '--task-definition', 'fg-web', '--desired-count', '2', '--launch-type', 'FARGATE']);
    expect(noNetwork.code).not.toBe(0);
    expect(noNetwork.stderr).toMatch(/InvalidParameterException.*Network Configuration must be provided when networkMode 'awsvpc' is specified/);

    const started = Date.now();
    const created = await cli([
      'ecs', 'create-service', '--service-name', 'fg-web', '--task-definition', 'fg-web', '--desired-count', '2', '--launch-type', 'FARGATE',
      '--network-configuration', NETWORK,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json.service).toMatchObject({ launchType: 'FARGATE', platformVersion: 'LATEST', platformFamily: 'Linux' });
    expect(created.json.service.deployments[0]).toMatchObject({ launchType: 'FARGATE', platformVersion: '1.4.0', platformFamily: 'Linux' });

    const first = await steady('fg-web', 2, 1);
    process.stdout.write(`fargate service of 2 tasks steady in ${Date.now() - started} ms\n`);
    expect(first.events?.[0]?.message).toBe('(service fg-web) has reached a steady state.');
    const tasks = (await serviceTasks('fg-web')).filter((t) => t.lastStatus === 'RUNNING');
    expect(tasks).toHaveLength(2);
    for (const t of tasks) {
      expect(t).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE', platformVersion: '1.4.0', platformFamily: 'Linux', group: 'service:fg-web' });
      expect(t.containerInstanceArn).toBeUndefined();
      expect(t.attachments?.[0]).toMatchObject({ type: 'ElasticNetworkInterface', status: 'ATTACHED' });
    }
    // Each under gVisor: its kernel says so.
    const seen = await containerOutput(logs, { group: '/berth/default', stream: `fg-web/probe/${tasks[0]!.taskArn!.split('/').at(-1)}` }, 'READY', 60_000, context);
    expect(seen.DMESG).toMatch(/gVisor/);

    // As ECS: a service with a launch type moves to a strategy only with a new deployment forced.
    const unforced = await cli(['ecs', 'update-service', '--service', 'fg-web', '--capacity-provider-strategy', 'capacityProvider=FARGATE_SPOT,weight=1']);
    expect(unforced.code).not.toBe(0);
    expect(unforced.stderr).toMatch(/InvalidParameterException.*When switching from launch type to capacity provider strategy on an existing service.*you must force a new deployment/);
    const placement = await cli(['ecs', 'update-service', '--service', 'fg-web', '--placement-strategy', 'type=spread,field=attribute:ecs.availability-zone']);
    expect(placement.stderr).toMatch(/InvalidParameterException.*Placement strategies are not supported with the FARGATE launch type/);

    // A new revision rolls out: new Fargate tasks, the old ones stopped once the new are running.
    await register('fg-web', 'two');
    const updated = await cli(['ecs', 'update-service', '--service', 'fg-web', '--task-definition', 'fg-web:2']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.json.service.deployments).toHaveLength(2);
    expect(updated.json.service.deployments[0]).toMatchObject({ status: 'PRIMARY', launchType: 'FARGATE', platformVersion: '1.4.0' });
    await steady('fg-web', 2, 2);
    const after = await serviceTasks('fg-web');
    const running = after.filter((t) => t.lastStatus === 'RUNNING');
    expect(running.map((t) => t.taskDefinitionArn!.split(':').at(-1))).toEqual(['2', '2']);
    expect(running.every((t) => t.launchType === 'FARGATE')).toBe(true);
    const again = await containerOutput(logs, { group: '/berth/default', stream: `fg-web/probe/${running[0]!.taskArn!.split('/').at(-1)}` }, 'READY', 60_000, context);
    expect(again.VERSION).toBe('two');
    for (const old of tasks) expect(after.find((t) => t.taskArn === old.taskArn)?.lastStatus ?? 'STOPPED').toBe('STOPPED');

    // Forced, the switch to a FARGATE_SPOT strategy is rolled out by a new deployment.
    const forced = await cli(['ecs', 'update-service', '--service', 'fg-web', '--capacity-provider-strategy', 'capacityProvider=FARGATE_SPOT,weight=1', '--force-new-deployment']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json.service.launchType).toBeUndefined();
    expect(forced.json.service.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 1 }]);
    await steady('fg-web', 2, 2);
    const spot = (await serviceTasks('fg-web')).filter((t) => t.lastStatus === 'RUNNING');
    expect(spot.map((t) => t.capacityProviderName)).toEqual(['FARGATE_SPOT', 'FARGATE_SPOT']);
    await cli(['ecs', 'update-service', '--service', 'fg-web', '--desired-count', '0']);
    await until(async () => (await serviceTasks('fg-web')).every((t) => t.lastStatus === 'STOPPED'), 60_000, 'fg-web scaled to 0');
  }, 420_000);

  it('splits a FARGATE base 1 + FARGATE_SPOT weight 3 strategy as ECS documents (5 tasks: 2 FARGATE, 3 FARGATE_SPOT)', async () => {
    await register('fg-split', 'split');
    const created = await cli([
      'ecs', 'create-service', '--service-name', 'fg-split', '--task-definition', 'fg-split', '--desired-count', '5',
      '--capacity-provider-strategy', 'capacityProvider=FARGATE,base=1,weight=1', 'capacityProvider=FARGATE_SPOT,weight=3',
      '--network-configuration', NETWORK,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json.service.launchType).toBeUndefined();
    expect(created.json.service).toMatchObject({ platformVersion: 'LATEST', platformFamily: 'Linux' });
    await steady('fg-split', 5, 1, 180_000);
    const running = (await serviceTasks('fg-split')).filter((t) => t.lastStatus === 'RUNNING');
    const count = (p: string) => running.filter((t) => t.capacityProviderName === p).length;
    expect({ FARGATE: count('FARGATE'), FARGATE_SPOT: count('FARGATE_SPOT') }).toEqual({ FARGATE: 2, FARGATE_SPOT: 3 });
    expect(running.every((t) => t.launchType === 'FARGATE')).toBe(true);
  }, 300_000);
});
