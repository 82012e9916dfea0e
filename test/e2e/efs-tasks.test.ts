/**
 * Tasks mounting an EFS file system, end to end: the built `berth server`, three `berth storage` hosts (a replica-3
 * GlusterFS volume), three hosts with a real `berth agent` each running busybox in runc (host network mode), the EFS
 * API through the AWS CLI v2 and ECS through the SDK. Proven here: tasks on two hosts write and read the same files;
 * the data outlives them and a task on a third host reads it; an access point makes files its uid/gid and confines
 * the container to its root directory (made with its CreationInfo), its requests carrying its secondary groups; a
 * readOnly mount point refuses writes; a mount that cannot be made stops the task with ECS's
 * ResourceInitializationError; no mount is left once tasks are cleaned up, also for a task stopped while its agent
 * was killed (kill -9) and restarted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeContainerInstancesCommand,
  ECSClient,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  StopTaskCommand,
  type Task,
  type Volume,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli } from './support/aws-cli.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { startBerthStorage, underEfsRoot, type BerthStorageProcess } from './support/berth-storage.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { until } from './support/netns-hosts.js';
import { stopRunningTasks, waitForTask } from './support/task-output.js';

const LOADED_MACHINE_MS = 240_000;
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

describe('tasks mounting EFS file systems (GlusterFS) on three hosts', () => {
  let dir: string;
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  let image: string;
  const storage: BerthStorageProcess[] = [];
  const agents: BerthAgentProcess[] = [];
  /** Container instance ARN of agent host i (lab host 3 + i). */
  const instanceOf: string[] = [];
  let fileSystemId = '';
  let accessPointId = '';
  const efs = async (...args: string[]) => {
    const r = await awsCli(server.url, server.credentialsFile, ['efs', ...args]);
    if (r.code !== 0) throw new Error(`aws efs ${args.join(' ')}: ${r.stderr}`);
    return r.json;
  };
  const logs = () => agents.map((a, i) => `--- agent ${i + 1}\n${a.stderr().slice(-3000)}`).join('\n') + `\n--- server\n${server.stderr().slice(-2000)}`;
  const agentDir = (i: number) => join(dir, `agent-${i + 1}`);

  async function startAgent(i: number): Promise<void> {
    agents[i] = startBerthAgent({
      endpoint: server.url,
      keys: server.keys,
      dataDir: agentDir(i),
      netns: lab.hosts[3 + i]!.netns,
      env: {
        BERTH_MEMORY_MIB: '1024',
        BERTH_AVAILABILITY_ZONE: zones[i]!,
        BERTH_INSECURE_REGISTRIES: registry.host,
        ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
        ECS_CONTAINER_STOP_TIMEOUT: '1s',
        ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
      },
    });
    await agents[i]!.waitForLog(/session with the control plane established/);
  }

  /** Register `family` with one busybox container (host network) mounting `volume` at /data. */
  async function register(family: string, volume: Volume, readOnly = false): Promise<void> {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode: 'host',
        requiresCompatibilities: ['EC2'],
        volumes: [volume],
        containerDefinitions: [{ name: 'app', image, memory: 64, essential: true, mountPoints: [{ sourceVolume: volume.name!, containerPath: '/data', readOnly }] }],
      }),
    );
  }

  /** Start `family` on agent host `i` with `script`, and wait for it to stop. */
  async function runOn(i: number, family: string, script: string): Promise<Task> {
    const { tasks, failures } = await ecs.send(
      new StartTaskCommand({ taskDefinition: family, containerInstances: [instanceOf[i]!], overrides: { containerOverrides: [{ name: 'app', command: ['sh', '-c', script] }] } }),
    );
    expect(failures, JSON.stringify(failures)).toEqual([]);
    return waitForTask(ecs, tasks![0]!.taskArn!, (t) => t.lastStatus === 'STOPPED', LOADED_MACHINE_MS, logs);
  }

  /** The agent host's FUSE/bind mounts under its EFS directory, from the root namespace's mount table. */
  // The tasks' mounts under an agent's EFS mounts root; `withRoot`: the root's own shared bind too (gluster-client.ts).
  const efsMountsOf = (i: number, withRoot = false) => readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => underEfsRoot(l.split(' ')[1], join(agentDir(i), 'efs'), withRoot));

  beforeAll(async () => {
    for (const tool of ['glusterd', 'glusterfs', 'bindfs']) execFileSync('which', [tool]); // fails loudly without them
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-efs-tasks-'));
    lab = createHostLab(6);
    registry = await startDockerRegistry({ address: lab.gateway });
    image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout')), image);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    for (const [i, zone] of zones.entries()) {
      const host = lab.hosts[i]!;
      storage.push(startBerthStorage({ endpoint: server.url, credentialsFile: server.credentialsFile, netns: host.netns, address: host.address, zone, dir: join(dir, `storage-${i + 1}`) }));
    }
    for (let i = 0; i < 3; i++) await startAgent(i);
    const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns! }));
    for (const ci of containerInstances!) instanceOf[zones.indexOf(ci.attributes!.find((a) => a.name === 'ecs.availability-zone')!.value!)] = ci.containerInstanceArn!;
    expect(instanceOf.filter(Boolean)).toHaveLength(3);

    fileSystemId = (await efs('create-file-system', '--creation-token', 'tasks-data')).FileSystemId;
    await until(
      'the file system to be available',
      async () => ((await efs('describe-file-systems', '--file-system-id', fileSystemId)).FileSystems[0].LifeCycleState === 'available' ? true : undefined),
      LOADED_MACHINE_MS,
      () => storage.map((s) => s.output().slice(-2000)).join('\n'),
    );
    for (let i = 0; i < 3; i++) await efs('create-mount-target', '--file-system-id', fileSystemId, '--subnet-id', `subnet-0000000${i}`);
    accessPointId = (
      await efs(
        'create-access-point',
        '--file-system-id', fileSystemId,
        '--posix-user', JSON.stringify({ Uid: 1000, Gid: 1000 }),
        '--root-directory', 'Path=/app,CreationInfo={OwnerUid=1000,OwnerGid=1000,Permissions=750}',
      )
    ).AccessPointId;
    await register('efs-rw', { name: 'shared', efsVolumeConfiguration: { fileSystemId } });
    await register('efs-ro', { name: 'shared', efsVolumeConfiguration: { fileSystemId } }, true);
    await register('efs-ap', { name: 'app', efsVolumeConfiguration: { fileSystemId, transitEncryption: 'ENABLED', authorizationConfig: { accessPointId } } });
    await register('efs-missing', { name: 'gone', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0' } });
  }, LOADED_MACHINE_MS + 180_000);

  afterAll(async () => {
    if (ecs) await stopRunningTasks(ecs).catch(() => {});
    for (const [i, a] of agents.entries()) {
      await untilAgentIdle(agentDir(i)).catch(() => {});
      await a.kill();
    }
    for (const i of [0, 1, 2]) for (const line of efsMountsOf(i, true).reverse()) execFileSync('umount', ['-l', line.split(' ')[1]!]);
    for (const s of storage) await s.stop();
    ecs?.destroy();
    await server?.kill();
    await registry?.stop();
    lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const brick = (i: number) => join(storage[i]!.brickDir, `berth-${fileSystemId}`);

  it('shares files between tasks on two hosts, and a task on a third host reads them after both stopped', async () => {
    const a = await runOn(0, 'efs-rw', 'echo one > /data/a.txt');
    expect(a.containers![0]!.exitCode, a.stoppedReason).toBe(0);
    const b = await runOn(1, 'efs-rw', 'grep -qx one /data/a.txt && echo two > /data/b.txt');
    expect(b.containers![0]!.exitCode, b.stoppedReason).toBe(0);
    const c = await runOn(2, 'efs-rw', 'grep -qx one /data/a.txt && grep -qx two /data/b.txt');
    expect(c.containers![0]!.exitCode, c.stoppedReason).toBe(0);
    // On every replica.
    for (const i of [0, 1, 2]) expect(readFileSync(join(brick(i), 'b.txt'), 'utf8')).toBe('two\n');
    // Each task's mount went with it.
    for (const i of [0, 1, 2]) await until(`host ${i + 1}'s EFS mounts gone`, async () => (efsMountsOf(i).length === 0 ? true : undefined), 60_000, logs);
  }, LOADED_MACHINE_MS * 3);

  it("enforces an access point: its uid/gid on every file, its root directory made and the container kept inside", async () => {
    const t = await runOn(0, 'efs-ap', 'echo hi > /data/ap.txt && [ "$(stat -c %u:%g /data/ap.txt)" = 1000:1000 ] && [ ! -e /data/a.txt ]');
    expect(t.containers![0]!.exitCode, t.stoppedReason).toBe(0);
    const root = statSync(join(brick(0), 'app'));
    expect([root.uid, root.gid, root.mode & 0o777]).toEqual([1000, 1000, 0o750]);
    const file = statSync(join(brick(0), 'app', 'ap.txt'));
    expect([file.uid, file.gid]).toEqual([1000, 1000]);
  }, LOADED_MACHINE_MS);

  it("gives an access point's requests its secondary groups: a file group-owned by one, 0660, is readable through it and not through one without it", async () => {
    // Made as root through the file system's root: a directory others may only enter and list, and a file of uid 3000
    // and group 2000 that others may not read.
    const setup = await runOn(0, 'efs-rw', 'mkdir -p /data/team && echo secret > /data/team/s.txt && chown 3000:2000 /data/team /data/team/s.txt && chmod 0775 /data/team && chmod 0660 /data/team/s.txt');
    expect(setup.containers![0]!.exitCode, setup.stoppedReason).toBe(0);
    const accessPoint = async (user: object) =>
      (await efs('create-access-point', '--file-system-id', fileSystemId, '--posix-user', JSON.stringify(user), '--root-directory', 'Path=/team')).AccessPointId as string;
    await register('efs-team', { name: 'team', efsVolumeConfiguration: { fileSystemId, transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: await accessPoint({ Uid: 1000, Gid: 1000, SecondaryGids: [2000] }) } } });
    await register('efs-outsider', { name: 'team', efsVolumeConfiguration: { fileSystemId, transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: await accessPoint({ Uid: 1000, Gid: 1000 }) } } });
    // The container runs as root: what it may do is what the access point's identity may do.
    const member = await runOn(1, 'efs-team', 'grep -qx secret /data/s.txt && echo more >> /data/s.txt && echo mine > /data/new.txt');
    expect(member.containers![0]!.exitCode, member.stoppedReason).toBe(0);
    const outsider = await runOn(2, 'efs-outsider', 'cat /data/s.txt; r1=$?; echo x > /data/other.txt; r2=$?; [ $r1 -ne 0 ] && [ $r2 -ne 0 ]');
    expect(outsider.containers![0]!.exitCode, outsider.stoppedReason).toBe(0);
    const team = join(brick(1), 'team');
    expect(readFileSync(join(team, 's.txt'), 'utf8')).toBe('secret\nmore\n');
    const made = statSync(join(team, 'new.txt'));
    expect([made.uid, made.gid]).toEqual([1000, 1000]);
    expect(() => statSync(join(team, 'other.txt'))).toThrow();
  }, LOADED_MACHINE_MS * 3);

  it('refuses writes through a readOnly mount point', async () => {
    const t = await runOn(1, 'efs-ro', 'grep -qx one /data/a.txt && ! echo no > /data/ro.txt');
    expect(t.containers![0]!.exitCode, t.stoppedReason).toBe(0);
    for (const i of [0, 1, 2]) expect(() => statSync(join(brick(i), 'ro.txt'))).toThrow();
  }, LOADED_MACHINE_MS);

  it("stops a task whose file system cannot be mounted with ECS's ResourceInitializationError", async () => {
    const t = await runOn(2, 'efs-missing', 'true');
    expect(t.stoppedReason).toMatch(/^ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: .*fs-0123456789abcdef0/);
    expect(t.stoppedReason).toContain('FileSystemNotFound');
  }, LOADED_MACHINE_MS);

  it('leaves no mount behind for a task stopped while its agent was killed (kill -9) and restarted', async () => {
    const { tasks } = await ecs.send(
      new StartTaskCommand({ taskDefinition: 'efs-rw', containerInstances: [instanceOf[0]!], overrides: { containerOverrides: [{ name: 'app', command: ['sleep', '600'] }] } }),
    );
    const arn = tasks![0]!.taskArn!;
    await waitForTask(ecs, arn, (t) => t.lastStatus === 'RUNNING', LOADED_MACHINE_MS, logs);
    expect(efsMountsOf(0).length).toBeGreaterThan(0);
    await agents[0]!.kill('SIGKILL');
    await ecs.send(new StopTaskCommand({ task: arn }));
    await startAgent(0);
    await waitForTask(ecs, arn, (t) => t.lastStatus === 'STOPPED', LOADED_MACHINE_MS, logs);
    await until('host 1 EFS mounts gone after recovery', async () => (efsMountsOf(0).length === 0 ? true : undefined), 60_000, logs);
  }, LOADED_MACHINE_MS * 2);
});
