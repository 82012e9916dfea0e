import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type RegisterTaskDefinitionRequest,
  type RunTaskRequest,
} from '@aws-sdk/client-ecs';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/berth-server.js';
import { netnsList, runcContainers, startTestCluster, uniquePortRange, type TestCluster } from './support/cluster.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { skopeo } from './support/skopeo.js';

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('tasks run as real containers on a berth agent', () => {
  let cluster: TestCluster;
  let agent: BerthAgentProcess;
  const portRange = uniquePortRange();

  beforeAll(async () => {
    cluster = await startTestCluster();
    agent = await cluster.startAgent({ env: { BERTH_MEMORY_MIB: '2048', BERTH_CPU_UNITS: '2048', ECS_DYNAMIC_HOST_PORT_RANGE: portRange.env } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const run = (...args: Parameters<TestCluster['runOneOff']>) => cluster.runOneOff(...args);

  const stopped = (arn: string) => cluster.waitForTask(arn, (t) => t.lastStatus === 'STOPPED');
  const running = (arn: string) => cluster.waitForTask(arn, (t) => t.lastStatus === 'RUNNING');

  it('serves a web server on its dynamic host port', async () => {
    const arn = await run([{ command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'], portMappings: [{ containerPort: 8080 }] }]);
    const task = await running(arn);
    const binding = task.containers![0]!.networkBindings![0]!;
    expect(binding).toMatchObject({ containerPort: 8080, protocol: 'tcp', bindIP: '0.0.0.0' });
    // From the agent's ECS_DYNAMIC_HOST_PORT_RANGE.
    expect(binding.hostPort).toBeGreaterThanOrEqual(portRange.first);
    expect(binding.hostPort).toBeLessThanOrEqual(portRange.last);
    const res = await fetch(`http://127.0.0.1:${binding.hostPort}/`);
    expect(await res.text()).toBe('hello from berth\n');
    expect(task.containers![0]!.runtimeId).toMatch(/-c0$/);
    await cluster.ecs.send(new StopTaskCommand({ task: arn }));
    const done = await stopped(arn);
    expect(done.stopCode).toBe('UserInitiated');
  });

  it('reports exit codes, and stops the task when its essential container exits', async () => {
    const arn = await run([{ command: ['sh', '-c', 'exit 3'] }]);
    const t = await stopped(arn);
    expect(t.containers![0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 3 });
    expect(t).toMatchObject({ stoppedReason: 'Essential container in task exited', desiredStatus: 'STOPPED' });
    expect(t.executionStoppedAt).toBeInstanceOf(Date);
  });

  it('lets a non-essential container exit alone while the task keeps running', async () => {
    const arn = await run([{ command: ['sleep', '3600'] }, { command: ['sh', '-c', 'exit 5'], essential: false }]);
    const t = await cluster.waitForTask(arn, (t) => t.containers?.[1]?.lastStatus === 'STOPPED');
    expect(t.lastStatus).toBe('RUNNING');
    expect(t.containers![1]!.exitCode).toBe(5);
    expect(t.containers![0]!.lastStatus).toBe('RUNNING');
    await cluster.ecs.send(new StopTaskCommand({ task: arn }));
    await stopped(arn);
  });

  it('sends SIGTERM, then SIGKILL after stopTimeout to a process that ignores SIGTERM', async () => {
    const ignoring = await run([{ command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'], stopTimeout: 2 }]);
    const polite = await run([{ command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'], stopTimeout: 20 }]);
    await running(ignoring);
    await running(polite);
    // Give the shells a moment to install their traps (PID 1 ignores signals it has no handler for).
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await cluster.ecs.send(new StopTaskCommand({ task: ignoring }));
    await cluster.ecs.send(new StopTaskCommand({ task: polite }));
    // While the agent waits for the stop timeout, the task shows as STOPPING.
    await cluster.waitForTask(ignoring, (t) => t.lastStatus === 'STOPPING');
    const a = await stopped(ignoring);
    const b = await stopped(polite);
    expect(a.containers![0]!.exitCode).toBe(137);
    expect(b.containers![0]!.exitCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('runs host and none network modes', async () => {
    const host = await run(
      [
        { command: ['httpd', '-f', '-p', '18090', '-h', '/var/www'], portMappings: [{ containerPort: 18090 }] },
        // The host's /etc/hosts, with extraHosts added.
        { essential: false, extraHosts: [{ hostname: 'api.example', ipAddress: '10.1.2.3' }], command: ['sh', '-c', "grep -q localhost /etc/hosts && grep -q '^10.1.2.3\tapi.example$' /etc/hosts"] },
      ],
      { networkMode: 'host' },
    );
    const t = await running(host);
    expect((await cluster.waitForTask(host, (t) => t.containers![1]!.lastStatus === 'STOPPED')).containers![1]!.exitCode).toBe(0);
    expect(t.containers![0]!.networkBindings).toEqual([{ bindIP: '0.0.0.0', containerPort: 18090, hostPort: 18090, protocol: 'tcp' }]);
    expect(await (await fetch('http://127.0.0.1:18090/')).text()).toBe('hello from berth\n');
    await cluster.ecs.send(new StopTaskCommand({ task: host }));
    await stopped(host);
    // Only loopback, and it is up (IFF_UP in its flags).
    const none = await run([{ command: ['sh', '-c', 'test "$(ls /sys/class/net)" = lo && test $(( $(cat /sys/class/net/lo/flags) & 1 )) = 1'] }], { networkMode: 'none' });
    expect((await stopped(none)).containers![0]!.exitCode).toBe(0);
  });

  it('runs health checks inside the container, and holds a HEALTHY dependency back until then', async () => {
    const arn = await run([
      {
        name: 'db',
        command: ['sh', '-c', 'sleep 2; touch /tmp/ready; sleep 3600'],
        healthCheck: { command: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 5, retries: 1 },
      },
      { name: 'app', command: ['sleep', '3600'], dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] },
    ]);
    const waiting = await cluster.waitForTask(arn, (t) => t.containers?.find((c) => c.name === 'db')?.lastStatus === 'RUNNING');
    expect(waiting.containers!.find((c) => c.name === 'app')!.lastStatus).toBe('PENDING');
    const healthy = await cluster.waitForTask(arn, (t) => t.lastStatus === 'RUNNING', 30_000);
    expect(healthy.containers!.find((c) => c.name === 'db')!.healthStatus).toBe('HEALTHY');
    expect(healthy.containers!.find((c) => c.name === 'app')!.lastStatus).toBe('RUNNING');
    await cluster.ecs.send(new StopTaskCommand({ task: arn }));
    await stopped(arn);
  });

  it('reports an OOM kill as OutOfMemoryError', async () => {
    const arn = await run([{ command: ['tail', '/dev/zero'], memory: 32 }]);
    const t = await stopped(arn);
    expect(t.containers![0]).toMatchObject({ exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' });
  });

  it('applies command and environment overrides', async () => {
    const arn = await run([{ command: ['sh', '-c', 'exit 1'], environment: [{ name: 'CODE', value: '1' }] }], {}, {
      overrides: { containerOverrides: [{ name: 'c0', command: ['sh', '-c', 'exit $CODE'], environment: [{ name: 'CODE', value: '42' }] }] },
    });
    const t = await stopped(arn);
    expect(t.containers![0]!.exitCode).toBe(42);
    expect(t.overrides?.containerOverrides?.[0]?.command).toEqual(['sh', '-c', 'exit $CODE']);
  });

  it('stops a task whose image cannot be pulled with CannotPullContainerError and the registry reason', async () => {
    const arn = await run([{ image: `${cluster.registry.host}/nope:1` }]);
    const t = await stopped(arn);
    expect(t.containers![0]!.reason).toMatch(/^CannotPullContainerError: .*(manifest unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN)/i);
    expect(t.stoppedReason).toMatch(/^CannotPullContainerError/);
    expect(t.stopCode).toBe('TaskFailedToStart');
  });

  it('refuses tasks that do not fit with RESOURCE:MEMORY and RESOURCE:PORTS', async () => {
    await cluster.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'huge', containerDefinitions: [{ name: 'c', image: cluster.image, memory: 4096 }] }),
    );
    const huge = await cluster.ecs.send(new RunTaskCommand({ taskDefinition: 'huge' }));
    expect(huge.failures).toEqual([{ arn: expect.stringContaining('container-instance/'), reason: 'RESOURCE:MEMORY' }]);
    const first = await run([{ command: ['sleep', '3600'], portMappings: [{ containerPort: 80, hostPort: 18080 }] }]);
    const { taskDefinitionArn } = await cluster.waitForTask(first, () => true);
    const second = await cluster.ecs.send(new RunTaskCommand({ taskDefinition: taskDefinitionArn! }));
    expect(second.failures).toEqual([{ arn: expect.stringContaining('container-instance/'), reason: 'RESOURCE:PORTS' }]);
    await cluster.ecs.send(new StopTaskCommand({ task: first }));
    await stopped(first);
  });

  it('survives kill -9 of the agent: containers keep running and are re-adopted, exits meanwhile are reported', async () => {
    const longLived = await run([{ command: ['sleep', '3600'] }]);
    const shortLived = await run([{ command: ['sh', '-c', 'sleep 2; exit 4'] }]);
    const before = await running(longLived);
    await running(shortLived);
    const root = join(agent.dataDir, 'runtime', 'runc');
    const pidBefore = runcState(root, before.containers![0]!.runtimeId!).pid;

    expect(await agent.kill('SIGKILL')).toBeNull();
    cluster.agents.splice(cluster.agents.indexOf(agent), 1);
    // While no agent runs, the short-lived container exits.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(runcState(root, before.containers![0]!.runtimeId!).status).toBe('running');

    agent = await cluster.startAgent({ dataDir: agent.dataDir, env: { BERTH_MEMORY_MIB: '2048', BERTH_CPU_UNITS: '2048' } });
    const gone = await stopped(shortLived);
    expect(gone.containers![0]!.exitCode).toBe(4);
    const after = await running(longLived);
    expect(runcState(root, after.containers![0]!.runtimeId!).pid).toBe(pidBefore);
    const { containerInstanceArns } = await cluster.ecs.send(new ListContainerInstancesCommand({}));
    expect(containerInstanceArns).toHaveLength(1);
    await cluster.ecs.send(new StopTaskCommand({ task: longLived }));
    await stopped(longLived);
  });

  it('leaves nothing of a stopped task behind: no container, namespace, mount, cgroup or port', async () => {
    const arn = await run([{ command: ['sleep', '3600'], portMappings: [{ containerPort: 80, hostPort: 18081 }, { containerPort: 81 }] }]);
    const t = await running(arn);
    const id = t.containers![0]!.runtimeId!;
    const root = join(agent.dataDir, 'runtime', 'runc');
    expect(runcContainers(root)).toContain(id);
    expect(netnsList()).toContain(`berth-${id}`);
    // Published through the bridge's nftables map (nft-port-map.ts) while it runs.
    const published = () => execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }).includes('tcp . 18081 :');
    expect(published()).toBe(true);
    await cluster.ecs.send(new StopTaskCommand({ task: arn }));
    await stopped(arn);
    const deadline = Date.now() + 15_000;
    // The cleanup deletes the container, then its root filesystem: wait for both.
    const remains = () => runcContainers(root).includes(id) || readFileSync('/proc/mounts', 'utf8').includes(id.slice(0, 20));
    while (Date.now() < deadline && remains()) await new Promise((r) => setTimeout(r, 100));
    expect(runcContainers(root)).not.toContain(id);
    expect(netnsList()).not.toContain(`berth-${id}`);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(id.slice(0, 20));
    expect(cgroupDirs().some((d) => d.includes(id))).toBe(false);
    expect(published()).toBe(false);
    const { containerInstances } = await cluster.ecs.send(
      new DescribeContainerInstancesCommand({ containerInstances: (await cluster.ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns! }),
    );
    const ports = containerInstances![0]!.remainingResources!.find((r) => r.name === 'PORTS')!.stringSetValue!;
    expect(ports).not.toContain('18081');
  });

  it("pulls from berth's own registry with credentials the agent obtains itself", async () => {
    const ecr = new ECRClient({ endpoint: cluster.server.url, region: 'us-east-1', credentials: { ...cluster.server.keys } });
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }));
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    const [user, password] = Buffer.from(authorizationData![0]!.authorizationToken!, 'base64').toString().split(':');
    const copied = await skopeo([
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--src-tls-verify=false',
      '--dest-creds',
      `${user}:${password}`,
      `docker://${cluster.image}`,
      `docker://${repository!.repositoryUri}:v1`,
    ]);
    expect(copied.stderr).toBe('');
    ecr.destroy();
    const arn = await run([{ image: `${repository!.repositoryUri}:v1`, command: ['sh', '-c', 'exit 6'] }]);
    const t = await stopped(arn);
    expect(t.containers![0]).toMatchObject({ exitCode: 6 });
    expect(t.containers![0]!.imageDigest).toMatch(/^sha256:/);
  });

  it('refuses to start with a malformed ecs.config line, naming it', () => {
    const file = join(cluster.dir, 'ecs.config');
    writeFileSync(file, 'ECS_CLUSTER=default\nthis line is wrong\n');
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'agent', '--config', file, '--endpoint', cluster.server.url], {
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`${file}:2: expected NAME=value, got 'this line is wrong'`);
  });
});

function runcState(root: string, id: string): { status: string; pid: number } {
  return JSON.parse(execFileSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' })) as { status: string; pid: number };
}

function cgroupDirs(): string[] {
  try {
    return execFileSync('find', ['/sys/fs/cgroup/memory/berth', '-maxdepth', '1', '-type', 'd'], { encoding: 'utf8' }).split('\n');
  } catch {
    return [];
  }
}
