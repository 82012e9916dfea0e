import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionRequest, type Task } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import type { HostLab } from './support/hosts.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';
import { findDir } from './support/find-dir.js';
import { containerOutput, waitForTask as waitFor } from './support/task-output.js';

const isRoot = process.getuid?.() === 0;

const NETWORK = 'awsvpcConfiguration={subnets=[subnet-0e2e],securityGroups=[sg-0e2e]}';

/**
 * The Fargate launch type: a Fargate pool host (`berth agent` with BERTH_FARGATE=true) on a simulated host, and
 * tasks launched with `aws ecs run-task --launch-type FARGATE`. Each runs under gVisor (its kernel says so, its
 * /proc is the sandbox's), gets its own address, is OOM-killed at its task memory, and Fargate's refusals hold.
 */
describe.runIf(isRoot)('Fargate launch type on gVisor', () => {
  if (!hasAwsCli) throw new Error('the AWS CLI v2 (/usr/bin/aws) is needed for this test');
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-fargate-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let image: string;

  const startPoolAgent = () =>
    startLabAgent({
      server,
      lab,
      dir,
      bridge,
      env: { BERTH_FARGATE: 'true', BERTH_MEMORY_MIB: '4096', BERTH_CPU_UNITS: '4096', BERTH_METADATA_ADDRESS: 'off', BERTH_INSECURE_REGISTRIES: registry.host },
    });

  beforeAll(async () => {
    ({ lab, registry, image, server, ecs, logs } = await startLabControlPlane(dir));
    agent = await startPoolAgent();
  }, 180_000);

  afterAll(() => stopLab({ dir, ecs, agent, clients: [logs], server, registries: [registry], lab }));

  const cli = (args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const waitForTask = (arn: string, check: (t: Task) => boolean, timeoutMs = 60_000) => waitFor(ecs, arn, check, timeoutMs, () => agent.stderr().slice(-3000));
  const output = (family: string, taskArn: string, until: string) =>
    containerOutput(logs, { group: '/berth/default', stream: `${family}/probe/${taskArn.split('/').at(-1)}` }, until, 60_000, () => agent.stderr().slice(-3000));
  const taskIp = (t: Task) => t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;

  /** A Fargate task definition (0.25 vCPU, 512 MiB) of one container `probe` running `script`. */
  const register = (family: string, script: string, extra: Partial<RegisterTaskDefinitionRequest> = {}) =>
    ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'probe', image, command: ['sh', '-c', script], stopTimeout: 10 }],
        ...extra,
      }),
    );

  const runFargate = async (family: string) => {
    const r = await cli(['ecs', 'run-task', '--task-definition', family, '--launch-type', 'FARGATE', '--network-configuration', NETWORK]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.failures, JSON.stringify(r.json.failures)).toEqual([]);
    return r.json.tasks[0] as Task;
  };

  it('does not list the pool host as a container instance of the cluster', async () => {
    const r = await cli(['ecs', 'list-container-instances']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.containerInstanceArns).toEqual([]);
    // And an EC2 task has nowhere to go: the pool host takes only Fargate tasks.
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'fg-ec2', containerDefinitions: [{ name: 'probe', image, memory: 64, command: ['true'] }] }));
    const ec2 = await cli(['ecs', 'run-task', '--task-definition', 'fg-ec2', '--launch-type', 'EC2']);
    expect(ec2.code).not.toBe(0);
    expect(ec2.stderr).toMatch(/InvalidParameterException.*No Container Instances were found in your cluster/);
  });

  it('runs a FARGATE task under gVisor, with its own kernel and /proc and its own address, recorded as Fargate', async () => {
    await register(
      'fg-probe',
      [
        'echo "VERSION $(cat /proc/version)"',
        'echo "DMESG $(dmesg | tr "\\n" " ")"',
        'echo "SENTRY $(test -e /proc/sentry-meminfo && echo yes || echo no)"',
        'echo "PROCS $(ls -d /proc/[0-9]* | wc -l)"',
        'echo READY',
        'exec nc -ll -p 8080 -e echo hello-from-fargate',
      ].join('\n'),
    );
    const launched = await runFargate('fg-probe');
    expect(launched).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE', platformVersion: '1.4.0', platformFamily: 'Linux', ephemeralStorage: { sizeInGiB: 20 } });
    expect(launched.containerInstanceArn).toBeUndefined();

    const seen = await output('fg-probe', launched.taskArn!, 'READY');
    process.stdout.write(`fargate task under gVisor:\n  /proc/version: ${seen.VERSION}\n  dmesg: ${seen.DMESG}\n  processes in its /proc: ${seen.PROCS}\n`);
    expect(seen.DMESG).toMatch(/gVisor/);
    expect(seen.SENTRY).toBe('yes');
    // The host's /proc is not its own: another kernel version, and only the sandbox's few processes.
    expect(seen.VERSION).not.toBe(readFileSync('/proc/version', 'utf8').trim());
    expect(Number(seen.PROCS)).toBeLessThan(10);

    // Its own address on the pool host's task subnet, shown as ECS shows an ENI, and reachable there.
    const running = await waitForTask(launched.taskArn!, (t) => t.lastStatus === 'RUNNING' && taskIp(t) !== undefined);
    const ip = taskIp(running)!;
    expect(ip).not.toBe(lab.hosts[0]!.address);
    expect(running.attachments![0]).toMatchObject({ type: 'ElasticNetworkInterface', status: 'ATTACHED' });
    expect(running.containers![0]!.networkInterfaces).toEqual([{ attachmentId: running.attachments![0]!.id, privateIpv4Address: ip }]);
    // (stdin held open for a while: busybox nc would otherwise end at its EOF before the answer came; it ends when the task closes.)
    const answer = execFileSync('nsenter', [`--net=/var/run/netns/${lab.hosts[0]!.netns}`, 'sh', '-c', `sleep 5 | busybox nc -w 5 ${ip} 8080`], { encoding: 'utf8' });
    expect(answer.trim()).toBe('hello-from-fargate');
    // Its task size as hard limits on the task's own cgroup (v1 here), which holds its sandbox: 0.25 vCPU as CFS
    // quota, 512 MiB (memory+swap the same: no swap).
    const taskId = launched.taskArn!.split('/').at(-1)!;
    const cgroup = (hierarchy: string) => findDir(`/sys/fs/cgroup/${hierarchy}/berth`, taskId, 3);
    expect(findDir(cgroup('cpu')!, `${taskId}-probe`, 0)).toBeDefined();
    expect(readFileSync(join(cgroup('cpu')!, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('25000');
    expect(readFileSync(join(cgroup('cpu')!, 'cpu.cfs_period_us'), 'utf8').trim()).toBe('100000');
    expect(Number(readFileSync(join(cgroup('memory')!, 'memory.limit_in_bytes'), 'utf8'))).toBe(512 * 1024 * 1024);
    expect(Number(readFileSync(join(cgroup('memory')!, 'memory.memsw.limit_in_bytes'), 'utf8'))).toBe(512 * 1024 * 1024);
    const described = await cli(['ecs', 'describe-tasks', '--tasks', launched.taskArn!]);
    expect(described.json.tasks[0]).toMatchObject({ launchType: 'FARGATE', platformVersion: '1.4.0', lastStatus: 'RUNNING' });

    await cli(['ecs', 'stop-task', '--task', launched.taskArn!]);
    await waitForTask(launched.taskArn!, (t) => t.lastStatus === 'STOPPED');
  });

  it('kills a Fargate task at its task memory (512 MiB) as an OOM kill', async () => {
    // dd's one 600 MiB buffer, filled from /dev/zero: past the limit in one read.
    await register('fg-oom', 'dd if=/dev/zero of=/dev/null bs=600M count=1');
    const launched = await runFargate('fg-oom');
    const stopped = await waitForTask(launched.taskArn!, (t) => t.lastStatus === 'STOPPED', 120_000);
    expect(stopped.containers![0]).toMatchObject({ exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' });
    // Under the limit (300 MiB and the sandbox's own ~12 MiB), the same work completes.
    await register('fg-fits', 'dd if=/dev/zero of=/dev/null bs=300M count=1');
    const fits = await waitForTask((await runFargate('fg-fits')).taskArn!, (t) => t.lastStatus === 'STOPPED', 120_000);
    expect(fits.containers![0]).toMatchObject({ exitCode: 0 });
  });

  /** The task's ephemeral storage as the host has it: its mount (source device and size) and its file's loop devices. */
  const ephemeral = (taskArn: string) => {
    const mountPoint = join(agent.dataDir, 'ephemeral', taskArn.split('/').at(-1)!);
    const mount = execFileSync('findmnt', ['-n', '-b', '-o', 'SOURCE,FSTYPE,SIZE', '--mountpoint', mountPoint], { encoding: 'utf8' }).trim();
    const loops = execFileSync('losetup', ['-n', '-O', 'NAME', '-j', `${mountPoint}.img`], { encoding: 'utf8' }).trim();
    return { mount, loops, file: existsSync(`${mountPoint}.img`) };
  };
  const findmntOrEmpty = (taskArn: string) => {
    try {
      return ephemeral(taskArn);
    } catch {
      // findmnt exits 1 when nothing is mounted there.
      const mountPoint = join(agent.dataDir, 'ephemeral', taskArn.split('/').at(-1)!);
      return { mount: '', loops: execFileSync('losetup', ['-n', '-O', 'NAME', '-j', `${mountPoint}.img`], { encoding: 'utf8' }).trim(), file: existsSync(`${mountPoint}.img`) };
    }
  };

  it("holds a task to its ephemeralStorage: writing past 21 GiB fails with ENOSPC inside gVisor; the storage goes when the task stops, also after an agent restart", async () => {
    await register(
      'fg-disk',
      [
        // 20 GiB allocated at once (no data written), then 2 GiB more written: past the task's 21 GiB.
        'fallocate -l 20G /fill && echo "FILLED yes" || echo "FILLED no"',
        'dd if=/dev/zero of=/more bs=1M count=2048 2>/tmp/dd.err; echo "DD $? $(head -n 1 /tmp/dd.err)"',
        'rm /fill /more; echo "FREED $(df -k / | tail -n 1)"',
        'echo READY',
        'exec sleep 3600',
      ].join('\n'),
      { ephemeralStorage: { sizeInGiB: 21 } },
    );
    const launched = await runFargate('fg-disk');
    expect(launched.ephemeralStorage).toEqual({ sizeInGiB: 21 });
    const seen = await output('fg-disk', launched.taskArn!, 'READY');
    process.stdout.write(`fargate task with 21 GiB of ephemeral storage: fallocate 20G ${seen.FILLED}; dd of 2 GiB more: ${seen.DD}\n`);
    expect(seen.FILLED).toBe('yes');
    expect(seen.DD).toMatch(/^[1-9]\d* .*No space left on device/);
    // On the host: a loop-mounted ext4 of 21 GiB of its own, on one loop device.
    const held = ephemeral(launched.taskArn!);
    const [source, fstype, size] = held.mount.split(/\s+/);
    expect(source).toMatch(/^\/dev\/loop\d+$/);
    expect(fstype).toBe('ext4');
    expect(Number(size)).toBeGreaterThan(20.5 * 2 ** 30);
    expect(Number(size)).toBeLessThanOrEqual(21 * 2 ** 30);
    expect(held.loops).toBe(source);

    // The agent is killed and started again while the task runs: it takes the task back, storage and all.
    await agent.kill('SIGKILL');
    agent = await startPoolAgent();
    expect(ephemeral(launched.taskArn!).mount).toBe(held.mount);
    await cli(['ecs', 'stop-task', '--task', launched.taskArn!]);
    await waitForTask(launched.taskArn!, (t) => t.lastStatus === 'STOPPED');
    // Stopped: no mount, no loop device, no file.
    const deadline = Date.now() + 20_000;
    let left = findmntOrEmpty(launched.taskArn!);
    while ((left.mount || left.loops || left.file) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      left = findmntOrEmpty(launched.taskArn!);
    }
    expect(left).toEqual({ mount: '', loops: '', file: false });
    expect(execFileSync('losetup', ['-a'], { encoding: 'utf8' })).not.toContain(launched.taskArn!.split('/').at(-1)!);
  });

  it('interrupts a FARGATE_SPOT task with SIGTERM and stopCode SpotInterruption when an on-demand task needs its room', async () => {
    // One spot task the size of the whole pool host (4 vCPU, 4 GiB registered), that says when it gets SIGTERM.
    await register('fg-spot', ["trap 'echo GOT-SIGTERM; exit 0' TERM", 'echo READY', 'while :; do sleep 1; done'].join('\n'), { cpu: '2048', memory: '4096' });
    const r = await cli([
      'ecs', 'run-task', '--task-definition', 'fg-spot', '--capacity-provider-strategy', 'capacityProvider=FARGATE_SPOT,weight=1', '--network-configuration', NETWORK,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const spot = r.json.tasks[0] as Task;
    expect(spot.capacityProviderName).toBe('FARGATE_SPOT');
    await output('fg-spot', spot.taskArn!, 'READY');
    await register('fg-small', 'sleep 3600');
    const onDemand = await runFargate('fg-small');
    const interrupted = await waitForTask(spot.taskArn!, (t) => t.lastStatus === 'STOPPED');
    expect(interrupted).toMatchObject({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' });
    // It had its warning: SIGTERM, and the time to act on it (it exited 0 from its trap, not SIGKILLed).
    expect(interrupted.containers![0]!.exitCode).toBe(0);
    expect((await output('fg-spot', spot.taskArn!, 'GOT-SIGTERM'))['GOT-SIGTERM']).toBeDefined();
    await waitForTask(onDemand.taskArn!, (t) => t.lastStatus === 'RUNNING');
    await cli(['ecs', 'stop-task', '--task', onDemand.taskArn!]);
    await waitForTask(onDemand.taskArn!, (t) => t.lastStatus === 'STOPPED');
  });

  it("refuses what Fargate refuses, with ECS's messages: a host path, a privileged container, an EC2-only task definition", async () => {
    const hostPath = await cli([
      'ecs', 'register-task-definition', '--family', 'fg-hostpath', '--requires-compatibilities', 'FARGATE', '--network-mode', 'awsvpc', '--cpu', '256', '--memory', '512',
      '--volumes', 'name=host,host={sourcePath=/etc}',
      '--container-definitions', JSON.stringify([{ name: 'probe', image, mountPoints: [{ sourceVolume: 'host', containerPath: '/host' }] }]),
    ]);
    expect(hostPath.code).not.toBe(0);
    expect(hostPath.stderr).toMatch(/ClientException.*Fargate does not support host volumes with a sourcePath/);
    const privileged = await cli([
      'ecs', 'register-task-definition', '--family', 'fg-priv', '--requires-compatibilities', 'FARGATE', '--network-mode', 'awsvpc', '--cpu', '256', '--memory', '512',
      '--container-definitions', JSON.stringify([{ name: 'probe', image, privileged: true }]),
    ]);
    expect(privileged.stderr).toMatch(/ClientException.*Fargate does not support privileged containers/);
    const ec2Only = await cli(['ecs', 'run-task', '--task-definition', 'fg-ec2', '--launch-type', 'FARGATE', '--network-configuration', NETWORK]);
    expect(ec2Only.stderr).toMatch(/InvalidParameterException.*Task definition does not support launch_type FARGATE/);
    const noNetwork = await cli(['ecs', 'run-task', '--task-definition', 'fg-probe', '--launch-type', 'FARGATE']);
    expect(noNetwork.stderr).toMatch(/InvalidParameterException.*Network Configuration must be provided/);
  });
});
