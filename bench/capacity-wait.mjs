#!/usr/bin/env node
// Time from a task waiting for capacity to RUNNING on a freshly provisioned netns host, through the whole of berth:
// one `berth server` from dist/ with the netns host provisioner, a host group of `berth.small` hosts (MinSize 0,
// MaxSize 1) and a capacity provider over it with managed scaling. Each round: the group is empty; RunTask with the
// provider's strategy (busybox `sleep 3600`, 512 CPU units, 512 MiB, networkMode none, image in a registry on the
// hosts' gateway) answers PROVISIONING; timed until DescribeTasks shows it RUNNING (polled every 20 ms) — managed
// scaling's pass, the group's launch, the namespace and veth, the agent's start and registration, the placement,
// the pull and the container start. Then the task is stopped and the group scales back in to nothing before the
// next round. Needs root, `npm run build`, runc, docker-registry. Prints one JSON line.
//
//   node bench/capacity-wait.mjs [--rounds 5] [--interval 1s]
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { runnerImport } from 'vite';
import { credentialsOf, startBerth, stopAll } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, interval: { type: 'string', default: '1s' } } });
const rounds = Number(values.rounds);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { buildBusyboxImage, pushImage } = await load('src/testing/busybox-image.ts');
const { startDockerRegistry } = await load('src/testing/docker-registry.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-capacity-wait-'));
const prefix = '10.249.77';
const bridge = 'bh-249-77';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
execFileSync('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', bridge]);
execFileSync('ip', ['link', 'set', bridge, 'up']);
let registry;
let ecs;
let server;
const dataDir = join(dir, 'server');
try {
  registry = await startDockerRegistry({ address: `${prefix}.1` });
  const image = `${registry.host}/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout')), image);
  server = startBerth([
    'server', '--listen', '0.0.0.0:0', '--data-dir', dataDir, '--log-level', 'warn',
    '--host-provisioner', 'netns', '--host-netns-subnet', `${prefix}.0/24`,
    '--managed-scaling-interval', values.interval, '--managed-scale-in-after', '1s',
  ]);
  const [, url] = await server.until(/listening on (http:\/\/\S+)/);
  const credentials = credentialsOf(dataDir);
  ecs = new ECSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
  // EC2 Auto Scaling through the AWS CLI v2, as users script it.
  const autoscaling = async (...args) => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const { stdout } = await promisify(execFile)('aws', ['autoscaling', ...args, '--endpoint-url', url, '--output', 'json'], { env });
    return stdout.trim() ? JSON.parse(stdout) : {};
  };
  await ecs.send(new CreateClusterCommand({ clusterName: 'bench' }));
  const userData = `ECS_CLUSTER=bench\nECS_CONTAINER_STOP_TIMEOUT=1s\nECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1s\nBERTH_INSECURE_REGISTRIES=${registry.host}\n`;
  await autoscaling('create-launch-configuration', '--launch-configuration-name', 'bench-hosts', '--image-id', 'netns', '--instance-type', 'berth.small', '--user-data', userData);
  await autoscaling('create-auto-scaling-group', '--auto-scaling-group-name', 'bench', '--launch-configuration-name', 'bench-hosts', '--min-size', '0', '--max-size', '1', '--desired-capacity', '0', '--availability-zones', 'us-east-1a');
  const group = async () => (await autoscaling('describe-auto-scaling-groups', '--auto-scaling-group-names', 'bench')).AutoScalingGroups[0];
  await ecs.send(
    new CreateCapacityProviderCommand({
      name: 'bench-cp',
      autoScalingGroupProvider: {
        autoScalingGroupArn: (await group()).AutoScalingGroupARN,
        managedScaling: { status: 'ENABLED', targetCapacity: 100, instanceWarmupPeriod: 0 },
        managedTerminationProtection: 'DISABLED',
        managedDraining: 'ENABLED',
      },
    }),
  );
  await ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'bench', capacityProviders: ['bench-cp'], defaultCapacityProviderStrategy: [] }));
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench', networkMode: 'none', containerDefinitions: [{ name: 'app', image, cpu: 512, memory: 512, command: ['sleep', '3600'] }] }));

  const samples = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ cluster: 'bench', taskDefinition: 'bench', capacityProviderStrategy: [{ capacityProvider: 'bench-cp', weight: 1 }] }));
    if (!tasks?.length) throw new Error(JSON.stringify(failures));
    if (tasks[0].lastStatus !== 'PROVISIONING') throw new Error(`round ${round}: the task did not wait (${tasks[0].lastStatus})`);
    const arn = tasks[0].taskArn;
    for (;;) {
      const t = (await ecs.send(new DescribeTasksCommand({ cluster: 'bench', tasks: [arn] }))).tasks[0];
      if (t.lastStatus === 'RUNNING') break;
      if (t.lastStatus === 'STOPPED') throw new Error(`round ${round}: the task stopped: ${t.stoppedReason}`);
      if (performance.now() - t0 > 300_000) throw new Error(`round ${round}: not RUNNING after 5 minutes`);
      await sleep(20);
    }
    samples.push(performance.now() - t0);
    await ecs.send(new StopTaskCommand({ cluster: 'bench', task: arn }));
    for (const deadline = Date.now() + 300_000; ; ) {
      const g = await group();
      if (g.DesiredCapacity === 0 && g.Instances.length === 0) break;
      if (Date.now() > deadline) throw new Error(`round ${round}: the group did not scale in`);
      await sleep(500);
    }
  }
  console.log(
    JSON.stringify({
      bench: 'capacity-wait',
      rounds,
      managedScalingInterval: values.interval,
      instanceType: 'berth.small',
      waitToRunningMsMedian: Math.round(median(samples)),
      samplesMs: samples.map((x) => Math.round(x)),
    }),
  );
} finally {
  ecs?.destroy();
  await stopAll();
  await registry?.stop();
  // The netns hosts a failed run left (this run's only: under its data directory): agent killed, namespace deleted.
  const hosts = join(dataDir, 'hosts');
  for (const id of existsSync(hosts) ? readdirSync(hosts) : []) {
    try {
      process.kill(Number(readFileSync(join(hosts, id, 'agent.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // gone
    }
    try {
      execFileSync('ip', ['netns', 'delete', `berth-${id}`], { stdio: 'ignore' });
    } catch {
      // gone
    }
  }
  execFileSync('ip', ['link', 'delete', bridge]);
  rmSync(dir, { recursive: true, force: true });
}
