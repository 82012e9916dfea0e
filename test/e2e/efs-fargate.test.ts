/**
 * EFS on the Fargate launch type, end to end: the built `berth server`, one `berth storage` host and a Fargate pool
 * host (`berth agent` with BERTH_FARGATE=true, tasks under gVisor's runsc, awsvpc) in two lab network namespaces, the
 * EFS API through the AWS CLI v2 and ECS through the SDK. The agent mounts the volume on the host (GlusterFS FUSE,
 * bindfs for an access point) and the gofer serves that mount into the sandbox as it serves any bind. Proven here:
 * Fargate tasks write and read the same files through `efsVolumeConfiguration`, which land on the brick; an access
 * point's uid/gid are what the sandbox sees and what the brick keeps, its root directory confines the task, and its
 * secondary groups reach the storage; a readOnly mount point refuses writes inside the sandbox; no mount is left
 * once the tasks are cleaned up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, type Task, type Volume } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli } from './support/aws-cli.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { startBerthStorage, underEfsRoot, type BerthStorageProcess } from './support/berth-storage.js';
import { removeBridge, uniqueBridge, untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { until } from './support/netns-hosts.js';
import { stopRunningTasks, waitForTask } from './support/task-output.js';

const LOADED_MACHINE_MS = 240_000;
const VPC = { awsvpcConfiguration: { subnets: ['subnet-0e2e'] } };

describe('EFS file systems mounted into Fargate (gVisor) tasks', () => {
  let dir: string;
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let storage: BerthStorageProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let image: string;
  let fileSystemId = '';
  const bridge = uniqueBridge();
  const efs = async (...args: string[]) => {
    const r = await awsCli(server.url, server.credentialsFile, ['efs', ...args]);
    if (r.code !== 0) throw new Error(`aws efs ${args.join(' ')}: ${r.stderr}`);
    return r.json;
  };
  const logs = () => `--- agent\n${agent?.stderr().slice(-4000)}\n--- storage\n${storage?.output().slice(-1500)}\n--- server\n${server?.stderr().slice(-1500)}`;
  const agentDir = () => join(dir, 'agent');
  const brick = () => join(storage.brickDir, `berth-${fileSystemId}`);
  /** The pool host's FUSE/bind mounts under its EFS directory, from the root namespace's mount table. */
  // The tasks' mounts under the agent's EFS mounts root; `withRoot`: the root's own shared bind too (gluster-client.ts).
  const efsMounts = (withRoot = false) => readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => underEfsRoot(l.split(' ')[1], join(agentDir(), 'efs'), withRoot));

  /** A Fargate task definition (0.25 vCPU, 512 MiB) whose container `app` mounts `volume` at /data. */
  async function register(family: string, volume: Volume, readOnly = false): Promise<void> {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        volumes: [volume],
        containerDefinitions: [{ name: 'app', image, essential: true, stopTimeout: 2, mountPoints: [{ sourceVolume: volume.name!, containerPath: '/data', readOnly }] }],
      }),
    );
  }

  /** RunTask FARGATE of `family` running `script`, waited for until it stops. */
  async function runFargate(family: string, script: string): Promise<Task> {
    const { tasks, failures } = await ecs.send(
      new RunTaskCommand({ taskDefinition: family, launchType: 'FARGATE', networkConfiguration: VPC, overrides: { containerOverrides: [{ name: 'app', command: ['sh', '-c', script] }] } }),
    );
    expect(failures, JSON.stringify(failures)).toEqual([]);
    expect(tasks![0]!.launchType).toBe('FARGATE');
    return waitForTask(ecs, tasks![0]!.taskArn!, (t) => t.lastStatus === 'STOPPED', LOADED_MACHINE_MS, logs);
  }
  const exitOf = (t: Task) => t.containers![0]!.exitCode;

  beforeAll(async () => {
    for (const tool of ['glusterd', 'glusterfs', 'bindfs', 'runsc']) execFileSync('which', [tool]); // fails loudly without them
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-efs-fargate-'));
    lab = createHostLab(2);
    registry = await startDockerRegistry({ address: lab.gateway });
    image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout')), image);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    const host = lab.hosts[0]!;
    storage = startBerthStorage({ endpoint: server.url, credentialsFile: server.credentialsFile, netns: host.netns, address: host.address, zone: 'us-east-1a', dir: join(dir, 'storage') });
    agent = startBerthAgent({
      endpoint: server.url,
      keys: server.keys,
      dataDir: agentDir(),
      netns: lab.hosts[1]!.netns,
      env: {
        ...bridge,
        BERTH_FARGATE: 'true',
        BERTH_MEMORY_MIB: '2048',
        BERTH_CPU_UNITS: '2048',
        BERTH_METADATA_ADDRESS: 'off',
        BERTH_AVAILABILITY_ZONE: 'us-east-1a',
        BERTH_INSECURE_REGISTRIES: registry.host,
        ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
        ECS_CONTAINER_STOP_TIMEOUT: '1s',
        ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
      },
    });
    await agent.waitForLog(/session with the control plane established/);

    fileSystemId = (await efs('create-file-system', '--creation-token', 'fargate-data')).FileSystemId;
    await until(
      'the file system to be available',
      async () => ((await efs('describe-file-systems', '--file-system-id', fileSystemId)).FileSystems[0].LifeCycleState === 'available' ? true : undefined),
      LOADED_MACHINE_MS,
      logs,
    );
    await efs('create-mount-target', '--file-system-id', fileSystemId, '--subnet-id', 'subnet-0e2e0e2e');
    await register('fg-efs-rw', { name: 'shared', efsVolumeConfiguration: { fileSystemId } });
    await register('fg-efs-ro', { name: 'shared', efsVolumeConfiguration: { fileSystemId } }, true);
  }, LOADED_MACHINE_MS + 120_000);

  afterAll(async () => {
    if (ecs) await stopRunningTasks(ecs).catch(() => {});
    if (agent) {
      await untilAgentIdle(agentDir()).catch(() => {});
      await agent.kill();
    }
    if (dir) for (const line of efsMounts(true).reverse()) execFileSync('umount', ['-l', line.split(' ')[1]!]);
    await storage?.stop();
    ecs?.destroy();
    await server?.kill();
    await registry?.stop();
    await removeBridge(bridge);
    lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('shares files between Fargate tasks through efsVolumeConfiguration, on the brick, and refuses writes through a readOnly mount point', async () => {
    const writer = await runFargate('fg-efs-rw', 'dmesg | grep -q gVisor && echo from-fargate > /data/f.txt && mkdir /data/d && echo two > /data/d/g.txt');
    expect(exitOf(writer), writer.stoppedReason).toBe(0);
    expect(readFileSync(join(brick(), 'f.txt'), 'utf8')).toBe('from-fargate\n');
    const reader = await runFargate('fg-efs-rw', 'grep -qx from-fargate /data/f.txt && grep -qx two /data/d/g.txt && rm /data/d/g.txt');
    expect(exitOf(reader), reader.stoppedReason).toBe(0);
    expect(() => statSync(join(brick(), 'd', 'g.txt'))).toThrow();
    const ro = await runFargate('fg-efs-ro', 'grep -qx from-fargate /data/f.txt && ! echo no > /data/ro.txt');
    expect(exitOf(ro), ro.stoppedReason).toBe(0);
    expect(() => statSync(join(brick(), 'ro.txt'))).toThrow();
    await until('the pool host\'s EFS mounts gone', async () => (efsMounts().length === 0 ? true : undefined), 60_000, logs);
  }, LOADED_MACHINE_MS * 4);

  it("applies an access point in the sandbox: its uid/gid on files, its root directory only, its secondary groups", async () => {
    // A file of uid 3000 and group 2000 that others may not read, made as root through the file system's root.
    const setup = await runFargate('fg-efs-rw', 'mkdir -p /data/team && echo secret > /data/team/s.txt && chown 3000:2000 /data/team/s.txt && chmod 0777 /data/team && chmod 0660 /data/team/s.txt');
    expect(exitOf(setup), setup.stoppedReason).toBe(0);
    const accessPointId = (
      await efs('create-access-point', '--file-system-id', fileSystemId, '--posix-user', JSON.stringify({ Uid: 1000, Gid: 1000, SecondaryGids: [2000] }), '--root-directory', 'Path=/team')
    ).AccessPointId;
    await register('fg-efs-ap', { name: 'team', efsVolumeConfiguration: { fileSystemId, transitEncryption: 'ENABLED', authorizationConfig: { accessPointId } } });
    const t = await runFargate(
      'fg-efs-ap',
      // (each step its own exit code, to tell which one failed)
      'grep -qx secret /data/s.txt || exit 11; echo mine > /data/mine.txt || exit 12; [ "$(stat -c %u:%g /data/mine.txt)" = 1000:1000 ] || exit 13; [ ! -e /data/f.txt ] || exit 14; [ ! -e /data/team ] || exit 15',
    );
    expect(exitOf(t), t.stoppedReason).toBe(0);
    const made = statSync(join(brick(), 'team', 'mine.txt'));
    expect([made.uid, made.gid]).toEqual([1000, 1000]);
    await until('the pool host\'s EFS mounts gone', async () => (efsMounts().length === 0 ? true : undefined), 60_000, logs);
  }, LOADED_MACHINE_MS * 2);
});
