import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { buildBusyboxImage, pushImage } from '../../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../../src/testing/docker-registry.js';
import { startEtcdCluster, type EtcdCluster } from '../../../src/testing/etcd.js';
import { startBerthAgent, type BerthAgentProcess } from './berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './berth-server.js';
import { removeBridge, runcContainers, uniqueBridge, uniquePortRange, untilAgentIdle } from './cluster.js';
import { createHostLab, type HostLab } from './hosts.js';

/** What a replica's `GET /healthz` says. */
export interface Health {
  readonly role: 'leader' | 'follower';
  readonly store: string;
  readonly replica: string;
}

/** One `berth server --store etcd` process on a simulated host of its own (a network namespace). */
export interface Replica {
  readonly index: number;
  readonly id: string;
  readonly url: string;
  readonly netns: string;
  readonly process: BerthServerProcess;
  readonly ecs: ECSClient;
  readonly alive: boolean;
}

export interface LabAgent {
  readonly process: BerthAgentProcess;
  readonly dataDir: string;
  readonly zone: string;
  /** Its container instance's ARN and id (the id is the presence key's last part). */
  readonly instanceArn: string;
  readonly instanceId: string;
}

/**
 * The failure lab of test/e2e/ha.test.ts: a 3-member etcd on a lab bridge's address, three replicas each in
 * its own network namespace (so that one can be cut off from etcd with iptables where it runs), a registry
 * with a busybox image, and two real agents (root namespace) given every replica in ECS_BACKEND_HOST.
 */
export interface HaLab {
  readonly etcd: EtcdCluster;
  readonly lab: HostLab;
  readonly replicas: readonly Replica[];
  readonly agents: readonly LabAgent[];
  /** `<registry>/busybox:latest`, default command `sleep 3600`. */
  readonly image: string;
  health(i: number, timeoutMs?: number): Promise<Health | undefined>;
  /** The index of the one replica saying leader, once exactly one of the live ones does (within `timeoutMs`). */
  leader(timeoutMs?: number): Promise<number>;
  /** An ECS client of a live replica other than those in `except`. */
  ecs(except?: readonly number[]): ECSClient;
  killReplica(i: number): Promise<void>;
  /** Start replica `i` again on the same host, address, port and id (after a kill). */
  restartReplica(i: number): Promise<void>;
  /** Run etcdctl (v3) against every member. */
  etcdctl(...args: string[]): string;
  /** The replica id holding the instance's agent session (its presence key), if any. */
  presence(instanceId: string, cluster?: string): string | undefined;
  waitForTask(arn: string, check: (t: Task) => boolean, timeoutMs?: number): Promise<Task>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

export async function startHaLab(): Promise<HaLab> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ha-'));
  const shared = join(dir, 'shared');
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (error) {
        console.error('ha lab cleanup:', error);
      }
    }
  };
  try {
    const lab = createHostLab(3);
    cleanups.push(() => lab.destroy());
    const etcd = await startEtcdCluster({ members: 3, host: lab.gateway });
    cleanups.push(() => etcd.stop());
    const registry: LoopbackRegistry = await startDockerRegistry();
    cleanups.push(() => registry.stop());
    const image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);

    const slots = lab.hosts.map((h, index) => ({
      index,
      id: `r${index}`,
      netns: h.netns,
      // The namespace is the lab's own: any port is free there.
      url: `http://${h.address}:${20_000 + Math.floor(Math.random() * 20_000)}`,
    }));
    const replicas: (Replica & { process: BerthServerProcess; ecs: ECSClient })[] = [];
    const launch = (i: number) => {
      const s = slots[i]!;
      const { host } = new URL(s.url);
      const args = ['--listen', host, '--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--shared-dir', shared, '--replica-id', s.id];
      return startBerthServer(join(dir, s.id), args, {}, { credentialsDir: shared, netns: s.netns });
    };
    const client = (url: string, keys: BerthServerProcess['keys']) =>
      new ECSClient({ endpoint: url, region: REGION, credentials: keys, maxAttempts: 1, requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 } });
    const adopt = (i: number, proc: BerthServerProcess) => {
      const s = slots[i]!;
      replicas[i]?.ecs.destroy();
      replicas[i] = {
        ...s,
        process: proc,
        ecs: client(s.url, proc.keys),
        get alive() {
          return proc.child.exitCode === null && proc.child.signalCode === null;
        },
      };
    };
    cleanups.push(async () => {
      for (const r of replicas) {
        r.ecs.destroy();
        await r.process.kill('SIGKILL');
      }
    });
    // The first creates the shared credentials; the others read them.
    adopt(0, await launch(0));
    for (const [i, p] of (await Promise.all([launch(1), launch(2)])).entries()) adopt(i + 1, p);
    const keys = replicas[0]!.process.keys;

    const health = async (i: number, timeoutMs = 3_000): Promise<Health | undefined> => {
      try {
        const res = await fetch(`${replicas[i]!.url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
        return (await res.json()) as Health;
      } catch {
        return undefined;
      }
    };
    const ecs = (except: readonly number[] = []) => {
      const r = replicas.find((x) => x.alive && !except.includes(x.index));
      if (!r) throw new Error('no live replica');
      return r.ecs;
    };

    // Two agents on this host, each given every replica; they spread by a hash of host name and data directory.
    const agentProcesses: { process: BerthAgentProcess; dataDir: string; zone: string }[] = [];
    cleanups.push(async () => {
      // Containers outlive their agent by design: stop the services and tasks, let the agents clean up.
      const any = replicas.find((r) => r.alive)?.ecs;
      if (any) {
        const { serviceArns = [] } = await any.send(new ListServicesCommand({})).catch(() => ({ serviceArns: [] }));
        for (const s of serviceArns) await any.send(new UpdateServiceCommand({ service: s, desiredCount: 0 })).catch(() => {});
        const { taskArns = [] } = await any.send(new ListTasksCommand({ desiredStatus: 'RUNNING' })).catch(() => ({ taskArns: [] }));
        for (const task of taskArns) await any.send(new StopTaskCommand({ task, reason: 'test cleanup' })).catch(() => {});
      }
      for (const a of agentProcesses) await untilAgentIdle(a.dataDir);
      for (const a of agentProcesses) {
        await a.process.kill('SIGTERM');
        // Whatever is still there (a failed run): kill and delete it, so no container outlives the test.
        const root = join(a.dataDir, 'runtime', 'runc');
        for (const id of runcContainers(root)) {
          try {
            execFileSync('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
          } catch {
            // gone meanwhile
          }
        }
        // And the root filesystems the agent had mounted for them (deepest first).
        const mounts = readFileSync('/proc/mounts', 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[1] ?? '')
          .filter((m) => m.startsWith(`${a.dataDir}/`))
          .reverse();
        for (const m of mounts) {
          try {
            execFileSync('umount', [m], { stdio: 'ignore' });
          } catch {
            // busy or gone: the directory's removal reports it
          }
        }
      }
    });
    for (const zone of ['zone-a', 'zone-b']) {
      const bridge = uniqueBridge();
      cleanups.push(() => removeBridge(bridge));
      const dataDir = join(dir, `agent-${zone}`);
      const agent = startBerthAgent({
        endpoint: slots.map((s) => s.url).join(','),
        keys,
        dataDir,
        env: {
          BERTH_CPU_UNITS: '4096',
          BERTH_MEMORY_MIB: '4096',
          BERTH_AVAILABILITY_ZONE: zone,
          ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
          ECS_CONTAINER_STOP_TIMEOUT: '2s',
          ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
          ECS_DYNAMIC_HOST_PORT_RANGE: uniquePortRange().env,
          ...bridge,
        },
      });
      agentProcesses.push({ process: agent, dataDir, zone });
    }
    await Promise.all(agentProcesses.map((a) => a.process.waitForLog(/session with the control plane established/)));
    const { containerInstanceArns = [] } = await ecs().send(new ListContainerInstancesCommand({}));
    const { containerInstances = [] } = await ecs().send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns }));
    const agents: LabAgent[] = agentProcesses.map((a) => {
      const ci = containerInstances.find((c) => c.attributes?.some((x) => x.name === 'ecs.availability-zone' && x.value === a.zone));
      if (!ci) throw new Error(`no container instance in ${a.zone}: ${JSON.stringify(containerInstances)}`);
      return { ...a, instanceArn: ci.containerInstanceArn!, instanceId: ci.containerInstanceArn!.split('/').pop()! };
    });

    const etcdctl = (...args: string[]) =>
      execFileSync('etcdctl', ['--endpoints', etcd.members.filter((m) => m.running).map((m) => m.endpoint).join(','), ...args], {
        encoding: 'utf8',
        env: { ...process.env, ETCDCTL_API: '3' },
      });
    return {
      etcd,
      lab,
      replicas,
      agents,
      image,
      health,
      async leader(timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        let seen: (Health | undefined)[] = [];
        while (Date.now() < deadline) {
          seen = await Promise.all(replicas.map((r) => (r.alive ? health(r.index) : undefined)));
          const leaders = seen.flatMap((h, i) => (h?.role === 'leader' ? [i] : []));
          if (leaders.length === 1) return leaders[0]!;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`not exactly one leader in ${timeoutMs} ms: ${JSON.stringify(seen)}`);
      },
      ecs,
      async killReplica(i) {
        await replicas[i]!.process.kill('SIGKILL');
      },
      async restartReplica(i) {
        await replicas[i]!.process.kill('SIGKILL');
        adopt(i, await launch(i));
      },
      etcdctl,
      presence(instanceId, cluster = 'default') {
        const value = etcdctl('get', `berth/presence/${cluster}/${instanceId}`, '--print-value-only').trim();
        return value ? (JSON.parse(value) as { replica: string }).replica : undefined;
      },
      async waitForTask(arn, check, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        let last: Task | undefined;
        while (Date.now() < deadline) {
          last = (await ecs().send(new DescribeTasksCommand({ tasks: [arn] })).catch(() => undefined))?.tasks?.[0];
          if (last && check(last)) return last;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`task ${arn} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
