import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import { containerOutput, waitForTask as waitFor } from './support/task-output.js';
import type { HostLab } from './support/hosts.js';

const isRoot = process.getuid?.() === 0;

/**
 * Real containers read their own task metadata from inside, as ECS's do: the built agent runs on a
 * simulated host (its own network namespace) with the endpoint at ECS's 169.254.170.2:80, which it adds
 * to that host's lo. Each container wgets `${ECS_CONTAINER_METADATA_URI_V4}…` and prints the answers;
 * its output comes back through the Logs API, where the test reads and checks it.
 */
describe.runIf(isRoot)('task metadata endpoint v4 from inside real containers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-metadata-'));
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
      env: { BERTH_METADATA_ADDRESS: '169.254.170.2:80', BERTH_AVAILABILITY_ZONE: 'us-east-1c', BERTH_INSECURE_REGISTRIES: registry.host },
    });
  }, 180_000);

  afterAll(() => stopLab({ dir, ecs, agent, clients: [logs], server, registries: [registry], lab }));

  const waitForTask = (arn: string, check: (t: Task) => boolean, timeoutMs = 60_000) => waitFor(ecs, arn, check, timeoutMs, () => agent.stderr().slice(-3000));

  /**
   * A container may ask before the agent has recorded its start (the runtime started it a moment ago), as
   * on ECS: wait, with a deadline, until the endpoint says the task is RUNNING; WAITED says how long.
   */
  const untilRunning = (uri: string) =>
    `n=0; until wget -q -O - "${uri}/task" | grep -q '"KnownStatus":"RUNNING","Containers"'; do n=$((n+1)); [ $n -ge 100 ] && break; sleep 0.1; done; echo "WAITED $n"`;

  /** Register a one-container task definition and run it; the container runs `script` with sh. */
  async function run(family: string, networkMode: 'bridge' | 'host' | 'awsvpc', script: string, environment: Record<string, string> = {}) {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode,
        cpu: '256',
        memory: '256',
        containerDefinitions: [
          {
            name: 'probe',
            image,
            memory: 64,
            cpu: 64,
            command: ['sh', '-c', script],
            environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
          },
        ],
      }),
    );
    const { tasks, failures } = await ecs.send(
      new RunTaskCommand({
        taskDefinition: family,
        tags: [{ key: 'suite', value: 'metadata' }],
        ...(networkMode === 'awsvpc' ? { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0e2e'] } } } : {}),
      }),
    );
    expect(failures).toEqual([]);
    return tasks![0]!;
  }

  /**
   * The container's output lines `<KEY> <rest>` by key, once a line starting with `until` has been shipped
   * (berth's default group and stream names: /berth/<cluster>, <family>/<container>/<task id>).
   */
  const output = (family: string, taskArn: string, until: string, timeoutMs = 60_000) =>
    containerOutput(logs, { group: '/berth/default', stream: `${family}/probe/${taskArn.split('/').at(-1)}` }, until, timeoutMs, () => agent.stderr().slice(-3000));

  it('a host-mode and a bridge-mode container each read their own task, container and stats; neither can use the other task’s token', async () => {
    // Host networking: the container shares the simulated host's namespace, where 169.254.170.2 is on lo.
    const hostTask = await run(
      'md-host',
      'host',
      [
        'echo "URI $ECS_CONTAINER_METADATA_URI_V4"',
        untilRunning('$ECS_CONTAINER_METADATA_URI_V4'),
        'echo "TASK $(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/task")"',
        'echo "STATS $(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/stats")"',
        'echo READY',
        'exec sleep 3600',
      ].join('\n'),
    );
    const fromHost = await output('md-host', hostTask.taskArn!, 'READY');
    expect(Number(fromHost.WAITED)).toBeLessThan(100);
    expect(fromHost.URI).toMatch(/^http:\/\/169\.254\.170\.2\/v4\/[0-9a-f]{32}$/);
    const hostRunning = await waitForTask(hostTask.taskArn!, (t) => t.lastStatus === 'RUNNING');
    const hostMeta = JSON.parse(fromHost.TASK!);
    expect(hostMeta).toMatchObject({
      TaskARN: hostTask.taskArn,
      Cluster: hostTask.clusterArn,
      Family: 'md-host',
      LaunchType: 'EC2',
      AvailabilityZone: 'us-east-1c',
      KnownStatus: 'RUNNING',
      Containers: [{ Name: 'probe', KnownStatus: 'RUNNING', DockerId: hostRunning.containers![0]!.runtimeId, Networks: [{ NetworkMode: 'host', IPv4Addresses: [''] }] }],
    });
    const hostStats = JSON.parse(fromHost.STATS!);
    expect(hostStats.memory_stats.limit).toBe(64 * 1024 * 1024);
    expect(hostStats.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
    expect(hostStats).not.toHaveProperty('networks');

    // Bridge networking: the container reaches 169.254.170.2 through its gateway. It is also handed the
    // host-mode task's URI and must be refused it.
    const bridgeTask = await run(
      'md-bridge',
      'bridge',
      [
        'own="$ECS_CONTAINER_METADATA_URI_V4"',
        untilRunning('$own'),
        'echo "CONTAINER $(wget -q -O - "$own")"',
        'echo "TASK $(wget -q -O - "$own/task")"',
        'echo "STATS1 $(wget -q -O - "$own/stats")"',
        'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done',
        'echo "STATS2 $(wget -q -O - "$own/stats")"',
        'echo "TASKSTATS $(wget -q -O - "$own/task/stats")"',
        'echo "V3 $(wget -q -O - "$ECS_CONTAINER_METADATA_URI/task")"',
        'other=$(wget -q -O - "$OTHER/task" 2>&1); echo "OTHER $? $other"',
        'echo DONE',
      ].join('\n'),
      { OTHER: fromHost.URI! },
    );
    const out = await output('md-bridge', bridgeTask.taskArn!, 'DONE');
    const done = await waitForTask(bridgeTask.taskArn!, (t) => t.lastStatus === 'STOPPED');
    expect(done.containers![0]!.exitCode).toBe(0);
    const runtimeId = done.containers![0]!.runtimeId!;

    expect(Number(out.WAITED)).toBeLessThan(100);
    const container = JSON.parse(out.CONTAINER!);
    expect(container).toMatchObject({
      DockerId: runtimeId,
      Name: 'probe',
      Image: image,
      KnownStatus: 'RUNNING',
      DesiredStatus: 'RUNNING',
      Limits: { CPU: 64, Memory: 64 },
      Type: 'NORMAL',
      ContainerARN: done.containers![0]!.containerArn,
      Labels: { 'com.amazonaws.ecs.task-arn': bridgeTask.taskArn, 'com.amazonaws.ecs.container-name': 'probe' },
      Networks: [{ NetworkMode: 'bridge' }],
    });
    expect(container.ImageID).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Date.parse(container.StartedAt)).toBeGreaterThan(0);
    // Its own address on the agent's bridge network.
    const [a, b, c] = bridge.BERTH_BRIDGE_SUBNET.split('.');
    expect(container.Networks[0].IPv4Addresses[0]).toMatch(new RegExp(`^${a}\\.${b}\\.${c}\\.\\d+$`));

    const task = JSON.parse(out.TASK!);
    expect(task).toMatchObject({
      Cluster: bridgeTask.clusterArn,
      TaskARN: bridgeTask.taskArn,
      Family: 'md-bridge',
      Revision: '1',
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 0.25, Memory: 256 },
      AvailabilityZone: 'us-east-1c',
      LaunchType: 'EC2',
      Containers: [{ DockerId: runtimeId }],
    });
    expect(Date.parse(task.PullStartedAt)).toBeLessThanOrEqual(Date.parse(task.PullStoppedAt));

    // Stats from the container's cgroups; the second reading carries the first as its "pre" values.
    const first = JSON.parse(out.STATS1!);
    const second = JSON.parse(out.STATS2!);
    expect(first).toMatchObject({ id: runtimeId, name: `/${runtimeId}`, preread: '0001-01-01T00:00:00Z', memory_stats: { limit: 64 * 1024 * 1024 } });
    expect(first.memory_stats.usage).toBeGreaterThan(0);
    expect(first.pids_stats.current).toBeGreaterThanOrEqual(1);
    expect(first.networks.eth0.rx_bytes).toBeGreaterThan(0);
    expect(second.preread).toBe(first.read);
    expect(second.precpu_stats.cpu_usage.total_usage).toBe(first.cpu_stats.cpu_usage.total_usage);
    expect(second.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(first.cpu_stats.cpu_usage.total_usage);
    expect(second.cpu_stats.system_cpu_usage).toBeGreaterThan(first.cpu_stats.system_cpu_usage);
    expect(second.network_rate_stats.rx_bytes_per_sec).toBeGreaterThanOrEqual(0);
    expect(Object.keys(JSON.parse(out.TASKSTATS!))).toEqual([runtimeId]);

    const v3 = JSON.parse(out.V3!);
    expect(v3.TaskARN).toBe(bridgeTask.taskArn);
    expect(v3).not.toHaveProperty('LaunchType');

    // The host-mode task's token, used from the bridge-mode container: 404, as for any unknown token.
    expect(out.OTHER).toMatch(/^1 .*404 Not Found/);
    // No token reaches the agent's log in full.
    expect(agent.stderr()).not.toContain(fromHost.URI!.split('/').at(-1)!);
  });

  it("an awsvpc task's container reads its task, with the task's own address in Networks, and its tags", async () => {
    const vpcTask = await run(
      'md-vpc',
      'awsvpc',
      [
        untilRunning('$ECS_CONTAINER_METADATA_URI_V4'),
        'echo "CONTAINER $(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4")"',
        'echo "TAGGED $(wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/taskWithTags")"',
        'echo DONE',
      ].join('\n'),
    );
    const out = await output('md-vpc', vpcTask.taskArn!, 'DONE');
    const done = await waitForTask(vpcTask.taskArn!, (t) => t.lastStatus === 'STOPPED');
    const ip = done.attachments![0]!.details!.find((d) => d.name === 'privateIPv4Address')!.value;
    expect(JSON.parse(out.CONTAINER!).Networks).toEqual([
      { NetworkMode: 'awsvpc', IPv4Addresses: [ip], AttachmentIndex: 0, MACAddress: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), PrivateDNSName: `ip-${ip!.replaceAll('.', '-')}.ec2.internal` },
    ]);
    const tagged = JSON.parse(out.TAGGED!);
    expect(tagged).toMatchObject({ TaskARN: vpcTask.taskArn, TaskTags: { suite: 'metadata' }, ContainerInstanceTags: {} });
    expect(tagged).not.toHaveProperty('Errors');
  });
});
