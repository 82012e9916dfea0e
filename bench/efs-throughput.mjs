#!/usr/bin/env node
// EFS throughput through a task's mount against its peers, in the same run: one `berth server`, one `berth storage`
// host (its glusterd in a lab network namespace, one brick) and one EC2 agent (runc) from dist/. Three ways to the
// same kind of disk, each driven by the same busybox commands:
//   task_efs        a task's efsVolumeConfiguration mount: the agent's GlusterFS FUSE mount, bound into the container
//   host_glusterfs  the same GlusterFS volume mounted directly on the host (`glusterfs --volfile=<its trusted volfile>`, root not squashed, as the task's mount)
//   host_glusterfs_task_cgroup  the direct mount again, its shell first moved into the EFS task's cpu and memory
//                   cgroups (v1): what the container's cgroup alone changes
//   task_hostpath   a task's host-path bind mount (a host volume's sourcePath on this machine's disk)
// Each round, in turn for each way (the order rotated so that the machine's noise hits all alike): sequential write
// (`dd bs=1M conv=fsync`), the file's page cache dropped (GNU dd iflag=nocache), sequential read, then creates of
// small files (a shell loop of `echo > file`). The tasks' commands run in their containers' mount namespaces
// (nsenter -m -r into the task's `sleep`), so they go through exactly the binds the containers see. Medians over the
// rounds, and each way's ratio to the host's direct GlusterFS mount and to the host path. Needs root, `npm run build`,
// runc, glusterfs-server, glusterfs-client, docker-registry. Prints one JSON line.
//
//   node bench/efs-throughput.mjs [--rounds 5] [--mib 64] [--files 300]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { runnerImport } from 'vite';
import { credentialsOf, removeAgentBridge, startAgent, startBerth, stopAll } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, mib: { type: 'string', default: '64' }, files: { type: 'string', default: '300' } } });
const rounds = Number(values.rounds);
const mib = Number(values.mib);
const files = Number(values.files);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { buildBusyboxImage, pushImage } = await load('src/testing/busybox-image.ts');
const { findDir } = await load('test/e2e/support/find-dir.ts');
const { startDockerRegistry } = await load('src/testing/docker-registry.ts');
const { createHostLab } = await load('test/e2e/support/hosts.ts');
const { secureGlusterfsArgv, startBerthStorage, trustedMountArgs } = await load('test/e2e/support/berth-storage.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-efs-'));
const BRIDGE = { bridge: 'bbefs0', subnet: '10.252.7.0/24' };
const WAYS = ['task_efs', 'host_glusterfs', 'host_glusterfs_task_cgroup', 'task_hostpath'];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round1 = (x) => Math.round(x * 10) / 10;
const round2 = (x) => Math.round(x * 100) / 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wall time in ms of `sh -c script` run by `prefix` (a task's nsenter, or nothing for the host: busybox's sh, as in
 * the tasks); `cgroups`: cgroup v1 directories the shell joins first (the task's, for host_glusterfs_task_cgroup).
 */
function timed(prefix, script, cgroups = []) {
  const t0 = process.hrtime.bigint();
  const join = cgroups.map((c) => `echo $$ > ${c}/cgroup.procs && `).join('');
  const argv = prefix.length ? [...prefix, '/bin/sh', '-c', script] : cgroups.length ? ['sh', '-c', `${join}exec busybox sh -c "$0"`, script] : ['busybox', 'sh', '-c', script];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${prefix.join(' ')} sh -c '${script}': ${r.stderr || r.error}`);
  return ms;
}

const lab = createHostLab(1);
const registry = await startDockerRegistry({ address: lab.gateway });
let ecs;
let storage;
// Under a directory of its own: secureGlusterfsArgv makes the mount point's parent a shared mount point.
const direct = join(dir, 'direct', 'mnt');
try {
  const image = `${registry.host}/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);
  const serverProcess = startBerth(['server', '--listen', `${lab.gateway}:0`, '--data-dir', join(dir, 'server'), '--log-level', 'warn']);
  const [, url] = await serverProcess.until(/listening on (http:\/\/\S+)/);
  const server = { url, keys: credentialsOf(join(dir, 'server')) };
  const host = lab.hosts[0];
  storage = startBerthStorage({ endpoint: url, credentialsFile: join(dir, 'server', 'credentials'), netns: host.netns, address: host.address, zone: 'us-east-1a', dir: join(dir, 'storage') });
  const agent = startAgent(server, join(dir, 'agent'), BRIDGE, { BERTH_METADATA_ADDRESS: 'off', BERTH_MEMORY_MIB: '2048', BERTH_INSECURE_REGISTRIES: registry.host, BERTH_AVAILABILITY_ZONE: 'us-east-1a' });
  await agent.until(/registered arn/);
  ecs = new ECSClient({ endpoint: url, region: 'us-east-1', credentials: server.keys, maxAttempts: 2 });

  const efsCli = (...args) => JSON.parse(execFileSync('/usr/bin/aws', ['--endpoint-url', url, '--output', 'json', 'efs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'server', 'credentials'), AWS_PROFILE: 'berth', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null' },
  }) || '{}');
  const fileSystemId = efsCli('create-file-system', '--creation-token', 'bench').FileSystemId;
  for (let i = 0; efsCli('describe-file-systems', '--file-system-id', fileSystemId).FileSystems[0].LifeCycleState !== 'available'; i++) {
    if (i > 600) throw new Error(`file system not available: ${storage.output().slice(-2000)}`);
    await sleep(200);
  }
  efsCli('create-mount-target', '--file-system-id', fileSystemId, '--subnet-id', 'subnet-0be0c0be');

  // The host's direct mount of the same volume.
  mkdirSync(direct, { recursive: true });
  // Every volume is TLS-only (docs/storage.md): the direct mount uses the storage host's own certificate of berth's CA.
  // It acts as root on the volume like the task's mount (the default policy grants ClientRootAccess): a trusted client
  // from the volume's trusted volfile (every volume squashes root for other clients).
  const trusted = trustedMountArgs(`berth-${fileSystemId}`, storage, join(dir, 'direct-glusterfs.log'), direct);
  // Its management connection is TLS as the agent's (--secure-mgmt=yes, the identity at /usr/lib/ssl in its own namespace).
  const [glusterfs, ...argv] = await secureGlusterfsArgv(undefined, join(storage.stateDir, 'lib', 'berth-tls'), ['--process-name', 'berth-bench', ...trusted.args], direct);
  execFileSync(glusterfs, argv);
  for (let i = 0; !readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${direct} `); i++) {
    if (i > 300) throw new Error('the direct GlusterFS mount did not appear');
    await sleep(100);
  }
  for (let i = 0; ; i++) {
    try {
      readdirSync(direct);
      break;
    } catch (error) {
      if (i > 300) throw error;
      await sleep(100);
    }
  }
  trusted.cleanup();

  const hostPath = join(dir, 'hostpath');
  mkdirSync(hostPath);
  const container = { name: 'app', image, memory: 256, essential: true, mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] };
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-efs', networkMode: 'host', volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId } }], containerDefinitions: [container] }));
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-hostpath', networkMode: 'host', volumes: [{ name: 'data', host: { sourcePath: hostPath } }], containerDefinitions: [container] }));
  const tasks = [];
  /** A running task of `family`: its arn and the nsenter prefix into its container. */
  async function running(family) {
    const { tasks: started, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: family, launchType: 'EC2' }));
    if (!started?.length) throw new Error(JSON.stringify(failures));
    const arn = started[0].taskArn;
    tasks.push(arn);
    for (let i = 0; ; i++) {
      const t = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks[0];
      if (t.lastStatus === 'RUNNING') break;
      if (t.lastStatus === 'STOPPED' || i > 1200) throw new Error(`${family}: ${t.lastStatus} ${t.stoppedReason ?? ''}\n${agent.output().slice(-3000)}`);
      await sleep(100);
    }
    const cg = findDir('/sys/fs/cgroup/memory/berth', `${arn.split('/').at(-1)}-app`, 4);
    const pid = cg && readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').find(Boolean);
    if (!pid) throw new Error(`no process found for ${family}`);
    return ['nsenter', '-t', pid, '-m', '-r'];
  }
  // Per way: how its commands run, the directory they work in, and that directory as the host reaches it.
  const efsTask = await running('bench-efs');
  const hostTask = await running('bench-hostpath');
  const cgroupOf = (pid, controller) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller))?.split(':')[2];
  const taskCgroups = ['cpu', 'memory'].map((c) => `/sys/fs/cgroup/${c}${cgroupOf(efsTask[2], c)}`);
  const ways = {
    task_efs: { prefix: efsTask, dir: '/data/task', hostDir: `/proc/${efsTask[2]}/root/data/task` },
    host_glusterfs: { prefix: [], dir: join(direct, 'host'), hostDir: join(direct, 'host') },
    host_glusterfs_task_cgroup: { prefix: [], cgroups: taskCgroups, dir: join(direct, 'host-cg'), hostDir: join(direct, 'host-cg') },
    task_hostpath: { prefix: hostTask, dir: '/data/task', hostDir: `/proc/${hostTask[2]}/root/data/task` },
  };
  // Where each party runs, and how each FUSE mount is mounted: what could set the ways apart.
  const shares = (pid) => {
    const path = cgroupOf(pid, 'cpu');
    return { cpu: path, cpu_shares: Number(readFileSync(`/sys/fs/cgroup/cpu${path}/cpu.shares`, 'utf8')), memory: cgroupOf(pid, 'memory') };
  };
  const pidsOf = (pattern) => (spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout || '').split('\n').filter(Boolean);
  const fuseOf = (point) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === point)?.split(' - ')[1];
  const efsMount = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).find((p) => p?.startsWith(join(dir, 'agent', 'efs')) && p.endsWith('/fs'));
  const diagnostics = {
    task_shell: shares(efsTask[2]),
    bench_shell: shares(process.pid),
    agent_glusterfs: pidsOf(join(dir, 'agent', 'efs')).map(shares)[0],
    direct_glusterfs: pidsOf(` ${direct}$`).map(shares)[0],
    task_mount: { point: efsMount, fuse: efsMount && fuseOf(efsMount), cmdline: pidsOf(join(dir, 'agent', 'efs')).map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter((a) => !a.includes('ssl')).join(' '))[0] },
    direct_mount: { point: direct, fuse: fuseOf(direct), cmdline: pidsOf(` ${direct}$`).map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter((a) => !a.includes('ssl')).join(' '))[0] },
  };
  const run = (w, script) => timed(ways[w].prefix, script, ways[w].cgroups);
  for (const w of WAYS) run(w, `mkdir -p ${ways[w].dir}`);

  const figures = Object.fromEntries(WAYS.map((w) => [w, { write: [], read: [], creates: [] }]));
  for (let r = 0; r < rounds; r++) {
    const order = WAYS.map((_, i) => WAYS[(i + r) % WAYS.length]);
    for (const w of order) {
      const d = ways[w].dir;
      const writeMs = run(w, `dd if=/dev/zero of=${d}/seq bs=1M count=${mib} conv=fsync 2>/dev/null`);
      execFileSync('dd', [`if=${ways[w].hostDir}/seq`, 'iflag=nocache', 'count=0', 'status=none']);
      const readMs = run(w, `dd if=${d}/seq of=/dev/null bs=1M 2>/dev/null`);
      const createMs = run(w, `mkdir ${d}/small && i=0 && while [ $i -lt ${files} ]; do echo x > ${d}/small/f$i; i=$((i+1)); done`);
      run(w, `rm -rf ${d}/small ${d}/seq`);
      figures[w].write.push((mib * 1000) / writeMs);
      figures[w].read.push((mib * 1000) / readMs);
      figures[w].creates.push((files * 1000) / createMs);
    }
  }
  const med = Object.fromEntries(
    WAYS.map((w) => [w, { write_mb_s: round1(median(figures[w].write)), read_mb_s: round1(median(figures[w].read)), creates_per_s: round1(median(figures[w].creates)) }]),
  );
  const ratios = (base) =>
    Object.fromEntries(
      WAYS.filter((w) => w !== base).map((w) => [
        w,
        { write: round2(med[w].write_mb_s / med[base].write_mb_s), read: round2(med[w].read_mb_s / med[base].read_mb_s), creates: round2(med[w].creates_per_s / med[base].creates_per_s) },
      ]),
    );
  console.log(
    JSON.stringify({
      bench: 'efs-throughput',
      rounds,
      write_read_mib: mib,
      small_files: files,
      load_average: loadavg().map(round1),
      diagnostics,
      medians: med,
      ratio_to_host_glusterfs: ratios('host_glusterfs'),
      ratio_to_task_hostpath: ratios('task_hostpath'),
    }),
  );
  for (const arn of tasks) await ecs.send(new StopTaskCommand({ task: arn }));
  for (const arn of tasks) {
    for (let i = 0; i < 300 && (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks[0].lastStatus !== 'STOPPED'; i++) await sleep(100);
  }
  // The agent cleans a stopped task up after 1 s: its EFS mounts go then.
  for (let i = 0; i < 100 && readFileSync('/proc/self/mountinfo', 'utf8').includes(`${join(dir, 'agent', 'efs')}/`); i++) await sleep(100);
} finally {
  ecs?.destroy();
  for (const point of [direct, join(dir, 'direct')]) if (readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${point} `)) spawnSync('umount', ['-l', point]);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const point = line.split(' ')[4];
    if (point?.startsWith(join(dir, 'agent', 'efs'))) spawnSync('umount', ['-l', point]);
  }
  await stopAll();
  await storage?.stop();
  await removeAgentBridge(BRIDGE);
  await registry.stop();
  lab.destroy();
  rmSync(dir, { recursive: true, force: true });
}
