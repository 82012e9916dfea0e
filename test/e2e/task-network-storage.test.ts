import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeContainerInstancesCommand, RunTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { netnsList, runcContainers, startTestCluster, type TestCluster } from './support/cluster.js';

const isRoot = process.getuid?.() === 0;
const VPC = { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0e2e'], securityGroups: ['sg-0e2e'] } } };
/** An HTTP GET with busybox nc (its wget is not usable in the static build), retried until it answers. */
const httpGet = (target: string) =>
  `for i in $(seq 100); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${target} 8080 2>/dev/null | grep -q 'hello from berth' && exit 0; sleep 0.1; done; exit 1`;
const httpd = { command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'] };

/**
 * Task networking and storage with real containers on one agent: awsvpc, links and the other bridge
 * details, volumes of every scope, tmpfs and /dev/shm, and that nothing is left behind.
 */
describe.runIf(isRoot)('task networking and storage', () => {
  let cluster: TestCluster;
  let agent: BerthAgentProcess;

  beforeAll(async () => {
    cluster = await startTestCluster();
    agent = await cluster.startAgent({ env: { BERTH_MEMORY_MIB: '2048', BERTH_CPU_UNITS: '2048' } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const running = (arn: string) => cluster.waitForTask(arn, (t) => t.lastStatus === 'RUNNING');
  const stopped = (arn: string) => cluster.waitForTask(arn, (t) => t.lastStatus === 'STOPPED');
  const stop = async (arn: string) => {
    await cluster.ecs.send(new StopTaskCommand({ task: arn }));
    return stopped(arn);
  };
  const exitCodes = (t: Task) => Object.fromEntries(t.containers!.map((c) => [c.name, c.exitCode]));
  const taskIp = (t: Task) => t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
  const attached = (arn: string) => cluster.waitForTask(arn, (t) => t.lastStatus === 'RUNNING' && taskIp(t) !== undefined);

  describe('awsvpc', () => {
    it('gives two tasks with the same containerPort their own addresses, reachable from the host and from each other', async () => {
      const first = await cluster.runOneOff([httpd], { networkMode: 'awsvpc', family: 'vpc-web' }, VPC);
      const second = await cluster.ecs.send(new RunTaskCommand({ taskDefinition: 'vpc-web', ...VPC }));
      const tasks = [await attached(first), await attached(second.tasks![0]!.taskArn!)];
      const ips = tasks.map(taskIp);
      expect(ips[0]).not.toBe(ips[1]);
      for (const [i, t] of tasks.entries()) {
        expect(t.containerInstanceArn).toBe(tasks[0]!.containerInstanceArn);
        expect(t.containers![0]!.networkInterfaces).toEqual([{ attachmentId: t.attachments![0]!.id, privateIpv4Address: ips[i] }]);
        expect(await (await fetch(`http://${ips[i]}:8080/`)).text()).toBe('hello from berth\n');
      }
      // No host port is taken by either.
      const { containerInstances } = await cluster.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [tasks[0]!.containerInstanceArn!] }));
      expect(containerInstances![0]!.remainingResources!.find((r) => r.name === 'PORTS')!.stringSetValue).not.toContain('8080');
      // A task reaches another by its address.
      const client = await cluster.runOneOff([{ command: ['sh', '-c', httpGet(ips[0]!)] }], { networkMode: 'awsvpc' }, VPC);
      expect(exitCodes(await stopped(client))).toEqual({ c0: 0 });
      for (const t of tasks) await stop(t.taskArn!);
    });

    it("lets an awsvpc task's containers talk over localhost, under a hostname named after the address", async () => {
      const arn = await cluster.runOneOff(
        [
          { name: 'web', ...httpd },
          { name: 'client', essential: false, command: ['sh', '-c', `${httpGet('127.0.0.1')}`] },
          { name: 'whoami', essential: false, command: ['sh', '-c', 'test "$(hostname)" = "ip-$(hostname -i | tr . -)"'] },
        ],
        { networkMode: 'awsvpc' },
        VPC,
      );
      const t = await cluster.waitForTask(arn, (t) => t.containers!.filter((c) => c.lastStatus === 'STOPPED').length === 2);
      expect(exitCodes(t)).toMatchObject({ client: 0, whoami: 0 });
      await stop(arn);
    });

    it('leaves nothing behind: namespace, address lease, mounts, task volumes', async () => {
      const arn = await cluster.runOneOff(
        [{ command: ['sleep', '3600'], mountPoints: [{ sourceVolume: 'scratch', containerPath: '/scratch' }] }],
        { networkMode: 'awsvpc', volumes: [{ name: 'scratch' }] },
        VPC,
      );
      const t = await attached(arn);
      const taskId = arn.split('/').at(-1)!;
      const volumeDir = join(agent.dataDir, 'volumes', 'tasks', taskId);
      expect(netnsList()).toContain(`berth-${taskId}`);
      expect(leasesHeldBy(taskId)).toEqual([taskIp(t)]);
      expect(existsSync(volumeDir)).toBe(true);
      const done = await stop(arn);
      expect(done.attachments![0]!.status).toBe('DELETED');
      await until(() => !runcContainers(join(agent.dataDir, 'runtime', 'runc')).some((id) => id.startsWith(taskId)) && !existsSync(volumeDir));
      expect(netnsList()).not.toContain(`berth-${taskId}`);
      expect(leasesHeldBy(taskId)).toEqual([]);
      expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(taskId);
    });
  });

  describe('bridge details', () => {
    it('resolves linked containers by alias and name, and writes extraHosts, dnsServers and dnsSearchDomains', async () => {
      const arn = await cluster.runOneOff([
        { name: 'db', ...httpd },
        {
          name: 'web',
          essential: false,
          links: ['db:database'],
          hostname: 'web.internal',
          extraHosts: [{ hostname: 'api.example', ipAddress: '10.1.2.3' }],
          dnsServers: ['10.0.0.2'],
          dnsSearchDomains: ['svc.local'],
          command: [
            'sh',
            '-c',
            [
              httpGet('database'),
              httpGet('db'),
              'test "$(hostname)" = web.internal',
              "grep -q '^10.1.2.3\tapi.example$' /etc/hosts",
              'grep -qx "nameserver 10.0.0.2" /etc/resolv.conf',
              'grep -qx "search svc.local" /etc/resolv.conf',
            ].map((step) => `(${step})`).join(' && '),
          ],
        },
      ]);
      const t = await cluster.waitForTask(arn, (t) => t.containers!.find((c) => c.name === 'web')!.lastStatus === 'STOPPED');
      expect(exitCodes(t).web).toBe(0);
      await stop(arn);
    });

    it('gives a container with disableNetworking only loopback', async () => {
      const arn = await cluster.runOneOff([{ disableNetworking: true, command: ['sh', '-c', 'test "$(ls /sys/class/net)" = lo && ip link show lo | grep -q UP'] }]);
      expect(exitCodes(await stopped(arn))).toEqual({ c0: 0 });
    });
  });

  describe('volumes', () => {
    it('bind-mounts a host path read-only', async () => {
      const dir = join(cluster.dir, 'config');
      mkdirSync(dir);
      writeFileSync(join(dir, 'greeting'), 'hi\n');
      const arn = await cluster.runOneOff(
        [{ command: ['sh', '-c', 'test "$(cat /cfg/greeting)" = hi && ! touch /cfg/new 2>/dev/null'], mountPoints: [{ sourceVolume: 'cfg', containerPath: '/cfg', readOnly: true }] }],
        { volumes: [{ name: 'cfg', host: { sourcePath: dir } }] },
      );
      expect(exitCodes(await stopped(arn))).toEqual({ c0: 0 });
      expect(readdirSync(dir)).toEqual(['greeting']);
    });

    it('keeps a shared volume after the task that wrote it, for the next task', async () => {
      const volumes = [{ name: 'keep', dockerVolumeConfiguration: { scope: 'shared' as const, driver: 'local', autoprovision: true } }];
      const mountPoints = [{ sourceVolume: 'keep', containerPath: '/keep' }];
      const writer = await cluster.runOneOff([{ command: ['sh', '-c', 'echo written-$$ > /keep/note'], mountPoints }], { volumes });
      expect(exitCodes(await stopped(writer))).toEqual({ c0: 0 });
      const onHost = join(agent.dataDir, 'volumes', 'shared', 'keep', 'note');
      await until(() => !runcContainers(join(agent.dataDir, 'runtime', 'runc')).some((id) => id.startsWith(writer.split('/').at(-1)!)));
      expect(readFileSync(onHost, 'utf8')).toMatch(/^written-\d+\n$/);
      const reader = await cluster.runOneOff([{ command: ['sh', '-c', `test "$(cat /keep/note)" = "${readFileSync(onHost, 'utf8').trim()}"`], mountPoints }], { volumes });
      expect(exitCodes(await stopped(reader))).toEqual({ c0: 0 });
    });

    it('shares a task volume between two containers ordered by dependsOn SUCCESS, and removes it with the task', async () => {
      const mountPoints = [{ sourceVolume: 'work', containerPath: '/work' }];
      const arn = await cluster.runOneOff(
        [
          { name: 'producer', essential: false, command: ['sh', '-c', 'sleep 1; echo made > /work/result'], mountPoints },
          {
            name: 'consumer',
            command: ['sh', '-c', 'test "$(cat /work/result)" = made'],
            volumesFrom: [{ sourceContainer: 'producer', readOnly: true }],
            dependsOn: [{ containerName: 'producer', condition: 'SUCCESS' }],
          },
        ],
        { volumes: [{ name: 'work', dockerVolumeConfiguration: { scope: 'task', driver: 'local' } }] },
      );
      const t = await stopped(arn);
      expect(exitCodes(t)).toEqual({ producer: 0, consumer: 0 });
      const byName = Object.fromEntries(t.containers!.map((c) => [c.name, c]));
      expect(byName.consumer!.lastStatus).toBe('STOPPED');
      await until(() => !existsSync(join(agent.dataDir, 'volumes', 'tasks', arn.split('/').at(-1)!)));
    });

    it('sizes tmpfs mounts and /dev/shm as the task definition says', async () => {
      const size = (path: string) => `$(df -k ${path} | awk 'NR==2 {print $2}')`;
      const arn = await cluster.runOneOff([
        {
          command: ['sh', '-c', `test "${size('/scratch')}" = 16384 && test "${size('/dev/shm')}" = 32768 && grep -q ' /scratch tmpfs ' /proc/mounts`],
          linuxParameters: { tmpfs: [{ containerPath: '/scratch', size: 16 }], sharedMemorySize: 32 },
        },
      ]);
      expect(exitCodes(await stopped(arn))).toEqual({ c0: 0 });
    });
  });

  /** host-local's leases (files named by address, holding the attachment id) of the attachment `id`. */
  function leasesHeldBy(id: string): string[] {
    const root = join(agent.dataDir, 'network', 'ipam');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((network) =>
      readdirSync(join(root, network)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f) && readFileSync(join(root, network, f), 'utf8').startsWith(id)),
    );
  }
});

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
