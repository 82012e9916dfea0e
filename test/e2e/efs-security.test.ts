/**
 * EFS security end to end: the built `berth server`, a `berth storage` host and a `berth agent` (runc, busybox, host
 * network) in lab network namespaces, ECS and IAM through the SDK, EFS and one registration through the AWS CLI v2.
 * Proven here: ECS's registration rules for EFS volumes (IAM and access points need transit encryption, an access
 * point fixes the root directory) refuse with ClientException and register nothing; a task mounts with
 * transitEncryption ENABLED and writes, while tcpdump on the storage host's interface sees the bytes go by but never
 * the file's plaintext nor the volfile's text (the management connection, glusterd :24007, is TLS too), and the
 * brick logs the agent's certificate of berth's CA; a glusterfs client without --secure-mgmt gets no volfile; `authorizationConfig.iam` mounts
 * are judged with the task role against the file system policy and the role's identity policies (ClientMount only:
 * read-only; ClientWrite from the role's own policy: writable; a role or an anonymous client the policy does not
 * name: the task stops with ECS's ResourceInitializationError); revocation: once the agent's container instance is
 * deregistered, the bricks drop a mount made with its certificate and refuse a new one, while a storage host's
 * certificate still mounts; root squash: a task allowed ClientRootAccess creates files as 0:0 (a trusted GlusterFS
 * client), one without it as 65534:65534 and cannot write at the file system's root, and the volume's credentials
 * appear in no log and no file left by the agent; a new agent's first mount, made while the storage host cannot yet add its certificate's
 * name to the bricks' allow-list (frozen with SIGSTOP), waits in ResolveMount and goes through once it can.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeregisterContainerInstanceCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTaskDefinitionFamiliesCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  type RegisterTaskDefinitionCommandInput,
  type Task,
  type Volume,
} from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli } from './support/aws-cli.js';
import { startBerthAgent, type AgentProcessOptions, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { glusterTlsOptionsOf, secureGlusterfsArgv, startBerthStorage, type BerthStorageProcess } from './support/berth-storage.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { until } from './support/netns-hosts.js';
import { stopRunningTasks, waitForTask } from './support/task-output.js';

const LOADED_MACHINE_MS = 240_000;
const MARKER = 'BERTH-PLAINTEXT-MARKER-0123456789';
const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

describe('EFS transit encryption and IAM authorization', () => {
  let dir: string;
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  let iam: IAMClient;
  let image: string;
  let storage: BerthStorageProcess;
  let agent: BerthAgentProcess;
  let agentOptions: AgentProcessOptions;
  let instance = '';
  let fileSystemId = '';
  const roles: Record<string, string> = {};
  const cli = (service: string, ...args: string[]) => awsCli(server.url, server.credentialsFile, [service, ...args]);
  const efs = async (...args: string[]) => {
    const r = await cli('efs', ...args);
    if (r.code !== 0) throw new Error(`aws efs ${args.join(' ')}: ${r.stderr}`);
    return r.json;
  };
  const logs = () => `--- agent\n${agent.stderr().slice(-3000)}\n--- server\n${server.stderr().slice(-2000)}`;
  const brick = () => join(storage.brickDir, `berth-${fileSystemId}`);
  const volume = (efsVolumeConfiguration: Volume['efsVolumeConfiguration']): Volume => ({ name: 'shared', efsVolumeConfiguration });
  const definition = (family: string, v: Volume, taskRoleArn?: string): RegisterTaskDefinitionCommandInput => ({
    family,
    networkMode: 'host',
    requiresCompatibilities: ['EC2'],
    ...(taskRoleArn ? { taskRoleArn } : {}),
    volumes: [v],
    containerDefinitions: [{ name: 'app', image, memory: 64, essential: true, mountPoints: [{ sourceVolume: v.name!, containerPath: '/data' }] }],
  });

  async function run(family: string, script: string): Promise<Task> {
    const { tasks, failures } = await ecs.send(
      new StartTaskCommand({ taskDefinition: family, containerInstances: [instance], overrides: { containerOverrides: [{ name: 'app', command: ['sh', '-c', script] }] } }),
    );
    expect(failures, JSON.stringify(failures)).toEqual([]);
    return waitForTask(ecs, tasks![0]!.taskArn!, (t) => t.lastStatus === 'STOPPED', LOADED_MACHINE_MS, logs);
  }

  beforeAll(async () => {
    for (const tool of ['glusterd', 'glusterfs', 'tcpdump', 'openssl']) execFileSync('which', [tool]); // fails loudly without them
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-efs-security-'));
    lab = createHostLab(2);
    registry = await startDockerRegistry({ address: lab.gateway });
    image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout')), image);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    const clients = { endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 };
    ecs = new ECSClient(clients);
    iam = new IAMClient(clients);
    storage = startBerthStorage({ endpoint: server.url, credentialsFile: server.credentialsFile, netns: lab.hosts[0]!.netns, address: lab.hosts[0]!.address, zone: 'us-east-1a', dir: join(dir, 'storage') });
    agentOptions = {
      endpoint: server.url,
      keys: server.keys,
      dataDir: join(dir, 'agent'),
      netns: lab.hosts[1]!.netns,
      env: {
        BERTH_MEMORY_MIB: '1024',
        BERTH_INSECURE_REGISTRIES: registry.host,
        ECS_ENABLE_TASK_IAM_ROLE: 'true',
        ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST: 'true',
        ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
        ECS_CONTAINER_STOP_TIMEOUT: '1s',
        ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
      },
    };
    agent = startBerthAgent(agentOptions);
    await agent.waitForLog(/session with the control plane established/);
    instance = (await ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns![0]!;
    for (const name of ['efs-writer', 'efs-outsider']) roles[name] = (await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }))).Role!.Arn!;

    fileSystemId = (await efs('create-file-system', '--creation-token', 'security')).FileSystemId;
    await until(
      'the file system to be available',
      async () => ((await efs('describe-file-systems', '--file-system-id', fileSystemId)).FileSystems[0].LifeCycleState === 'available' ? true : undefined),
      LOADED_MACHINE_MS,
      () => storage.output().slice(-3000),
    );
    await efs('create-mount-target', '--file-system-id', fileSystemId, '--subnet-id', 'subnet-00000000');
    const tls = { fileSystemId, transitEncryption: 'ENABLED' as const };
    await ecs.send(new RegisterTaskDefinitionCommand(definition('efs-tls', volume(tls))));
    await ecs.send(new RegisterTaskDefinitionCommand(definition('efs-iam', volume({ ...tls, authorizationConfig: { iam: 'ENABLED' } }), roles['efs-writer'])));
    await ecs.send(new RegisterTaskDefinitionCommand(definition('efs-outsider', volume({ ...tls, authorizationConfig: { iam: 'ENABLED' } }), roles['efs-outsider'])));
  }, LOADED_MACHINE_MS + 180_000);

  afterAll(async () => {
    if (ecs) await stopRunningTasks(ecs).catch(() => {});
    if (agent) {
      await untilAgentIdle(agent.dataDir).catch(() => {});
      await agent.kill();
    }
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((p) => dir && p.startsWith(dir));
    for (const p of mounts.reverse()) execFileSync('umount', ['-l', p]);
    await storage?.stop();
    ecs?.destroy();
    iam?.destroy();
    await server?.kill();
    await registry?.stop();
    lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("refuses task definitions that break ECS's EFS rules with ClientException naming the field, registering nothing", async () => {
    // IAM without transit encryption, through the AWS CLI.
    const input = definition('bad-iam', volume({ fileSystemId, authorizationConfig: { iam: 'ENABLED' } }));
    const r = await cli('ecs', 'register-task-definition', '--cli-input-json', JSON.stringify(input));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ClientException.*transitEncryption must be ENABLED when authorizationConfig\.iam is ENABLED/);
    // An access point without transit encryption, and with a root directory of its own, through the SDK.
    const withAp = (extra: object) => definition('bad-ap', volume({ fileSystemId, authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0' }, ...extra }));
    await expect(ecs.send(new RegisterTaskDefinitionCommand(withAp({})))).rejects.toMatchObject({
      name: 'ClientException',
      message: expect.stringContaining('transitEncryption must be ENABLED when authorizationConfig.accessPointId is specified'),
    });
    await expect(ecs.send(new RegisterTaskDefinitionCommand(withAp({ transitEncryption: 'ENABLED', rootDirectory: '/other' })))).rejects.toMatchObject({
      name: 'ClientException',
      message: 'Invalid request provided: Create TaskDefinition: When using an EFS access point, the root directory must either be set to "/" or be omitted.',
    });
    const { families } = await ecs.send(new ListTaskDefinitionFamiliesCommand({}));
    expect(families).not.toContain('bad-iam');
    expect(families).not.toContain('bad-ap');
  });

  it('mounts with transitEncryption ENABLED over TLS: the data arrives, its plaintext never crosses the wire', async () => {
    const pcap = join(dir, 'storage.pcap');
    let capture: ChildProcess | undefined;
    let captureLog = '';
    try {
      // On the storage host's own interface: every byte between the agent's host and the bricks passes here.
      capture = spawn('nsenter', [`--net=/var/run/netns/${lab.hosts[0]!.netns}`, '--', 'tcpdump', '-i', 'eth0', '-s', '0', '-U', '-w', pcap, 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
      capture.stderr!.on('data', (d: Buffer) => (captureLog += d.toString()));
      await until('tcpdump to listen', async () => (captureLog.includes('listening on') ? true : undefined), 30_000, () => captureLog);
      const t = await run('efs-tls', `yes ${MARKER} | head -c 262144 > /data/secret.txt && grep -q ${MARKER} /data/secret.txt`);
      expect(t.containers![0]!.exitCode, t.stoppedReason).toBe(0);
      // tcpdump drops what it has not read yet when it is stopped: stop it only once the file is on the brick and the
      // capture has stopped growing (CI once cut it at 259,932 bytes of the 262,144 the file alone makes).
      await until('the file on the brick', async () => (existsSync(join(brick(), 'secret.txt')) && statSync(join(brick(), 'secret.txt')).size === 262_144 ? true : undefined), 30_000);
      let seen = -1;
      await until('the capture to settle', async () => {
        const size = existsSync(pcap) ? statSync(pcap).size : 0;
        const settled = size === seen && size > 262_144;
        seen = size;
        return settled ? true : undefined;
      }, 30_000, () => `capture of ${seen} bytes`);
    } finally {
      capture?.kill('SIGINT');
      await new Promise((r) => (capture && capture.exitCode === null ? capture.once('exit', r) : r(undefined)));
    }
    expect(readFileSync(join(brick(), 'secret.txt'), 'utf8').slice(0, MARKER.length)).toBe(MARKER);
    const wire = readFileSync(pcap);
    expect(wire.length, 'the file went through the capture').toBeGreaterThan(262_144);
    expect(wire.includes(Buffer.from(MARKER)), 'plaintext on the wire').toBe(false);
    // The management connection (glusterd :24007, the volfile fetch) is TLS too: none of the volfile's text went by.
    for (const text of [`volume berth-${fileSystemId}`, 'remote-subvolume', 'transport.socket.ssl-own-cert']) expect(wire.includes(Buffer.from(text)), `'${text}' on the wire`).toBe(false);
    expect(readFileSync(join(storage.stateDir, 'log', 'glusterd.log'), 'utf8')).toContain('SSL support for MGMT is ENABLED');
    // The agent's client had its identity at /usr/lib/ssl in its own mount namespace only, not in the host's.
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(' /usr/lib/ssl ');
    // The brick authenticated the agent by its certificate of berth's CA (GlusterFS logs the certificate's name).
    const brickLogs = readdirSync(join(storage.stateDir, 'log', 'bricks')).map((f) => readFileSync(join(storage.stateDir, 'log', 'bricks', f), 'utf8'));
    expect(brickLogs.join('\n')).toContain(`connecting user name: berth-agent-${instance.split('/').pop()}`);
  }, LOADED_MACHINE_MS);

  it("refuses the volfile to a glusterfs client without a TLS management connection (no --secure-mgmt)", async () => {
    const point = join(dir, 'plain-client');
    mkdirSync(point, { recursive: true });
    const plain = spawnSync('nsenter', [`--net=/var/run/netns/${lab.hosts[1]!.netns}`, '--', 'glusterfs', '--volfile-server', lab.hosts[0]!.address, '--volfile-id', `berth-${fileSystemId}`, `--log-file=${join(dir, 'plain-client.log')}`, point], { timeout: 60_000 });
    expect(plain.status, 'glusterfs exits failing').not.toBe(0);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(` ${point} `);
    // The same host's agent mounts it (with its identity at /usr/lib/ssl, --secure-mgmt=yes): the task above wrote.
    expect(existsSync(join(brick(), 'secret.txt'))).toBe(true);
  }, LOADED_MACHINE_MS);

  it('squashes root for a client without ClientRootAccess, and keeps the root-access credentials out of logs and files', async () => {
    const anyone = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: actions, Resource: '*' }] });
    const password = /option password (\S+)/.exec(readFileSync(join(storage.stateDir, 'lib', 'vols', `berth-${fileSystemId}`, `trusted-berth-${fileSystemId}.tcp-fuse.vol`), 'utf8'))![1]!;
    const volfileDirs = () => readdirSync(join(dir, 'agent', 'efs-tls')).filter((n) => n.startsWith('volfile-'));
    const clientLogs = () => readdirSync('/var/log/glusterfs').filter((f) => f.includes(join(dir, 'agent', 'efs').slice(1).replaceAll('/', '-'))).map((f) => readFileSync(join('/var/log/glusterfs', f), 'utf8'));

    // ClientRootAccess granted: root acts as root, and makes a directory anyone may write (a new file system's root,
    // root's 0755, is writable only by root, on EFS too).
    await efs('put-file-system-policy', '--file-system-id', fileSystemId, '--policy', anyone(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess']));
    const root = await run('efs-tls', 'touch /data/by-root.txt && mkdir -m 1777 /data/open && chmod 1777 /data/open');
    expect(root.containers![0]!.exitCode, root.stoppedReason).toBe(0);
    expect(statSync(join(brick(), 'by-root.txt'))).toMatchObject({ uid: 0, gid: 0 });
    expect(volfileDirs(), 'the trusted volfile removed once mounted').toEqual([]);

    // No ClientRootAccess: root is squashed to 65534:65534 by the bricks; the file system's root refuses it.
    await efs('put-file-system-policy', '--file-system-id', fileSystemId, '--policy', anyone(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']));
    const squashed = await run('efs-tls', '! touch /data/squashed-at-root.txt && touch /data/open/squashed.txt');
    expect(squashed.containers![0]!.exitCode, squashed.stoppedReason).toBe(0);
    expect(statSync(join(brick(), 'open', 'squashed.txt'))).toMatchObject({ uid: 65534, gid: 65534 });
    expect(existsSync(join(brick(), 'squashed-at-root.txt'))).toBe(false);

    // Still no ClientRootAccess, through an access point whose root directory is missing: the agent makes it with its
    // CreationInfo owner through a short-lived mount with the credentials; the task's files are the access point's.
    const ap = await efs('create-access-point', '--file-system-id', fileSystemId, '--posix-user', 'Uid=1000,Gid=1000', '--root-directory', 'Path=/ap-made,CreationInfo={OwnerUid=1000,OwnerGid=1000,Permissions=750}');
    await ecs.send(new RegisterTaskDefinitionCommand(definition('efs-ap', volume({ fileSystemId, transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: ap.AccessPointId } }))));
    const viaAp = await run('efs-ap', 'touch /data/ap.txt');
    expect(viaAp.containers![0]!.exitCode, viaAp.stoppedReason).toBe(0);
    expect(statSync(join(brick(), 'ap-made'))).toMatchObject({ uid: 1000, gid: 1000, mode: 0o40750 });
    expect(statSync(join(brick(), 'ap-made', 'ap.txt'))).toMatchObject({ uid: 1000, gid: 1000 });
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain('/setup fuse.glusterfs');

    // The credentials were nowhere but in glusterd's state: not in the agent's log, the glusterfs clients' logs, the
    // control plane's log or a file the agent left.
    expect(clientLogs().length, 'the agent mounts\' glusterfs logs').toBeGreaterThan(0);
    for (const text of [agent.stderr(), server.stderr(), server.stdout(), ...clientLogs()]) expect(text).not.toContain(password);
    expect(volfileDirs()).toEqual([]);
    await efs('delete-file-system-policy', '--file-system-id', fileSystemId);
  }, LOADED_MACHINE_MS * 2);

  it('judges IAM mounts by the task role against the file system policy and its identity policies', async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: roles['efs-writer'] }, Action: 'elasticfilesystem:ClientMount', Resource: '*' }] };
    await efs('put-file-system-policy', '--file-system-id', fileSystemId, '--policy', JSON.stringify(policy));

    // ClientMount only: the task reads, and its write is refused (a read-only mount).
    const reader = await run('efs-iam', `grep -q ${MARKER} /data/secret.txt && ! echo no > /data/denied.txt`);
    expect(reader.containers![0]!.exitCode, reader.stoppedReason).toBe(0);
    expect(existsSync(join(brick(), 'denied.txt'))).toBe(false);

    // ClientWrite from the role's own identity policy: an Allow in either policy is enough.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'efs-writer',
        PolicyName: 'write',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'elasticfilesystem:ClientWrite', Resource: '*' }] }),
      }),
    );
    // (Without ClientRootAccess its root is squashed: it writes in the directory a root-access task opened above.)
    const writer = await run('efs-iam', 'echo yes > /data/open/allowed.txt');
    expect(writer.containers![0]!.exitCode, writer.stoppedReason).toBe(0);
    expect(statSync(join(brick(), 'open', 'allowed.txt')).size).toBe(4);

    // A role the policy does not name, and an anonymous client (no iam): no ClientMount, the task stops.
    for (const family of ['efs-outsider', 'efs-tls']) {
      const refused = await run(family, 'true');
      expect(refused.stoppedReason).toMatch(/^ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: .*access denied by server while mounting/);
      expect(refused.stoppedReason).toContain('elasticfilesystem:ClientMount');
      expect(refused.stoppedReason).toContain(family === 'efs-outsider' ? roles['efs-outsider'] : 'anonymous client');
    }
  }, LOADED_MACHINE_MS * 2);

  it("stops accepting a deregistered agent's certificate: its live mount dropped, a new mount refused", async () => {
    const volumeName = `berth-${fileSystemId}`;
    const agentTls = join(dir, 'agent', 'efs-tls');
    const mounts: string[] = [];
    const mount = async (name: string, tls: string) => {
      // Under a directory of this test's own, made a shared mount point (the mount comes back from the client's namespace).
      const point = join(dir, 'direct', name);
      mkdirSync(point, { recursive: true });
      const [command, ...argv] = await secureGlusterfsArgv(lab.hosts[1]!.netns, tls, ['--volfile-server', storage.address, '--volfile-id', volumeName, ...glusterTlsOptionsOf(volumeName, tls), '--log-file', join(dir, `${name}.log`), point], point);
      execFileSync(command!, argv);
      mounts.push(point);
      return point;
    };
    const mounted = (point: string) => readFileSync('/proc/mounts', 'utf8').includes(` ${point} fuse.glusterfs `);
    const answers = (point: string) => {
      try {
        readdirSync(point);
        return mounted(point);
      } catch {
        return false;
      }
    };
    try {
      // Registered: the agent's certificate (from its last mount) is accepted.
      const live = await mount('mnt-agent-live', agentTls);
      await until('a mount with the agent certificate to answer', async () => (answers(live) ? true : undefined), 30_000);
      expect(readFileSync(join(live, 'secret.txt'), 'utf8').slice(0, MARKER.length)).toBe(MARKER);

      await stopRunningTasks(ecs);
      await ecs.send(new DeregisterContainerInstanceCommand({ containerInstance: instance, force: true }));
      await until('the pool leader to update the allow-list', async () => (/TLS allow-list updated/.test(storage.output()) ? true : undefined), 60_000, () => storage.output().slice(-3000));

      // The live connection is dropped by the bricks (they re-check their clients when the allow-list changes); the
      // client's reconnection is refused and it unmounts.
      await until('the live mount to be dropped', async () => (answers(live) ? undefined : true), 60_000);
      // A new mount with the revoked certificate: refused at the handshake, the client gives up and unmounts.
      const again = await mount('mnt-agent-again', agentTls);
      await until('the refused client to give up', async () => (/Server authentication failed/.test(readFileSync(join(dir, 'mnt-agent-again.log'), 'utf8')) ? true : undefined), 30_000);
      await until('the refused mount to be gone', async () => (mounted(again) ? undefined : true), 30_000);
      const brickLog = readdirSync(join(storage.stateDir, 'log', 'bricks')).map((f) => readFileSync(join(storage.stateDir, 'log', 'bricks', f), 'utf8')).join('\n');
      expect(brickLog).toMatch(/Cannot authenticate client/);
      // The storage host's certificate is still accepted.
      const host = await mount('mnt-storage', join(storage.stateDir, 'lib', 'berth-tls'));
      await until('a mount with the storage host certificate to answer', async () => (answers(host) ? true : undefined), 30_000);
    } finally {
      for (const point of mounts.filter(mounted)) execFileSync('umount', ['-l', point]);
    }
  }, LOADED_MACHINE_MS);

  it("mounts for a new agent only once the bricks accept its certificate's name", async () => {
    // The first agent (deregistered above) makes way for a new one on the same host.
    await untilAgentIdle(join(dir, 'agent')).catch(() => {});
    await agent.kill();
    // The storage host frozen: the new agent's name cannot reach the bricks' auth.ssl-allow until it resumes.
    const storagePid = storage.child.pid!;
    process.kill(storagePid, 'SIGSTOP');
    let frozen = true;
    try {
      agent = startBerthAgent({ ...agentOptions, dataDir: join(dir, 'agent2') });
      await agent.waitForLog(/session with the control plane established/);
      const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({ status: 'ACTIVE' }));
      instance = containerInstanceArns!.find((arn) => arn !== instance)!;
      const name = `berth-agent-${instance.split('/').pop()}`;
      const { tasks, failures } = await ecs.send(
        new StartTaskCommand({ taskDefinition: 'efs-iam', containerInstances: [instance], overrides: { containerOverrides: [{ name: 'app', command: ['sh', '-c', 'echo early > /data/open/early.txt'] }] } }),
      );
      expect(failures, JSON.stringify(failures)).toEqual([]);
      // The task's mount has reached the control plane, which holds it back instead of letting the bricks refuse it.
      const waiting = () => server.stdout().split('\n').some((line) => line.includes(name) && line.includes('ResolveMount waits for the bricks'));
      await until('ResolveMount to wait for the new name', async () => (waiting() ? true : undefined), LOADED_MACHINE_MS, logs);
      process.kill(storagePid, 'SIGCONT');
      frozen = false;
      const t = await waitForTask(ecs, tasks![0]!.taskArn!, (x) => x.lastStatus === 'STOPPED', LOADED_MACHINE_MS, logs);
      expect(t.containers![0]!.exitCode, t.stoppedReason).toBe(0);
      expect(readFileSync(join(brick(), 'open', 'early.txt'), 'utf8')).toBe('early\n');
      const brickLog = readdirSync(join(storage.stateDir, 'log', 'bricks')).map((f) => readFileSync(join(storage.stateDir, 'log', 'bricks', f), 'utf8')).join('\n');
      expect(brickLog).toContain(`connecting user name: ${name}`);
    } finally {
      if (frozen) process.kill(storagePid, 'SIGCONT');
    }
  }, LOADED_MACHINE_MS * 2);
});
