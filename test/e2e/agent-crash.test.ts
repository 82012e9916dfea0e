import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { netnsList, removeBridge, runcContainers, startTestCluster, uniqueBridge, uniquePortRange, type TestCluster } from './support/cluster.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { mappedPorts } from '../../src/network/nft-port-map.js';

const isRoot = process.getuid?.() === 0;

/**
 * kill -9 of the agent at every step of a start. The agent kills itself (SIGKILL) as its k-th save of a
 * task's state begins (BERTH_TEST_CRASH_AT_SAVE): the steps before it are done on the host, their record
 * is not on disk. For k = 1, 2, … until a start needs fewer saves than k, a restarted agent must bring the
 * task to RUNNING promptly, with one container, and after the task stops leave nothing of it: no
 * container, conmon, mount, network namespace, veth, iptables/nft rule or cgroup.
 */
describe.runIf(isRoot)('the agent killed at each step of a start', () => {
  let cluster: TestCluster;
  const bridge = uniqueBridge();
  const ports = uniquePortRange();
  let dataDir: string;
  const agents: BerthAgentProcess[] = [];

  const env = (extra: Record<string, string> = {}) => ({ BERTH_MEMORY_MIB: '1024', BERTH_CPU_UNITS: '1024', ECS_DYNAMIC_HOST_PORT_RANGE: ports.env, ...bridge, ...extra });
  const startAgent = async (extra: Record<string, string> = {}) => {
    const agent = await cluster.startAgent({ dataDir, env: env(extra) });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    cluster = await startTestCluster();
    dataDir = join(cluster.dir, 'crashing-agent');
  });
  afterEach(async () => {
    // A test that failed half-way must not leave an agent holding the data directory for the next one.
    for (const agent of agents) if (agent.child.exitCode === null && agent.child.signalCode === null) await agent.kill('SIGTERM');
  });
  afterAll(async () => {
    // A test that failed may leave its task with a dead agent: one that stays up stops and cleans it.
    const last = agents.at(-1);
    if (cluster && (!last || last.child.exitCode !== null || last.child.signalCode !== null)) await startAgent().catch(() => {});
    await cluster?.stop();
    await removeBridge(bridge);
  }, 120_000);

  it('converges after a crash at every save, with no duplicate container and nothing leaked', async () => {
    const figures: { crashAtSave: number; restartToRunningMs: number }[] = [];
    for (let k = 1; ; k++) {
      const agent = await startAgent({ BERTH_TEST_CRASH_AT_SAVE: String(k) });
      const crashed = new Promise<true>((resolve) => agent.child.once('exit', () => resolve(true)));
      const arn = await cluster.runOneOff([{ command: ['sleep', '3600'], portMappings: [{ containerPort: 8080 }] }]);
      const runtimeId = `${arn.split('/').at(-1)}-c0`;
      const outcome = await Promise.race([crashed, cluster.waitForTask(arn, (t) => t.lastStatus === 'RUNNING', 60_000).then(() => false)]);
      if (outcome) expect(agent.child.signalCode).toBe('SIGKILL');
      else {
        // This start needed fewer than k saves: every step has been crashed at. (The stop would save
        // again: an agent without the crash point stops the task.)
        await agent.kill('SIGTERM');
        const plain = await startAgent();
        await stopAndCheckNothingLeft(plain, arn, runtimeId);
        await plain.kill('SIGTERM');
        expect(bridgeVeths(true)).toBe(0);
        break;
      }
      const restartedAt = Date.now();
      const restarted = await startAgent();
      const t = await cluster.waitForTask(arn, (t) => t.lastStatus === 'RUNNING', 30_000);
      figures.push({ crashAtSave: k, restartToRunningMs: Date.now() - restartedAt });
      expect(t.containers![0]!.runtimeId).toBe(runtimeId);
      // One container, one conmon, one namespace, one veth on the bridge, one overlay rootfs.
      expect(runcContainers(join(dataDir, 'runtime', 'runc'))).toEqual([runtimeId]);
      expect(conmons(runtimeId)).toBe(1);
      expect(netnsList().filter((n) => n.includes(runtimeId))).toEqual([`berth-${runtimeId}`]);
      expect(bridgeVeths()).toBe(1);
      expect(overlayRoots(runtimeId)).toBe(1);
      // The leak check below can see the published port: one element of the bridge's nftables port map.
      expect(await mappedPorts({ bridge: bridge.BERTH_BRIDGE_NAME })).toEqual([expect.objectContaining({ protocol: 'tcp', containerPort: 8080 })]);
      await stopAndCheckNothingLeft(restarted, arn, runtimeId);
      await restarted.kill('SIGTERM');
      // A clean stop detaches the warm attachments (a kill -9 leaves them to the next agent to adopt).
      expect(bridgeVeths(true)).toBe(0);
    }
    console.log(JSON.stringify({ agentCrash: figures }));
    // A start with its image cached saves four times: the payload's task, the container's records before
    // anything is made (the pull rides along), created, running.
    expect(figures.length).toBeGreaterThanOrEqual(4);
  }, 600_000);

  /**
   * Between saves too: kill -9 from outside at spread moments after RunTask, so some land in the middle of
   * a step (the CNI plugins wiring the namespace, runc creating the container, the overlay being mounted).
   */
  it('converges after kill -9 at moments spread over a start, with nothing leaked', async () => {
    const figures: { killAfterMs: number; statusAtKill: string; restartToRunningMs: number }[] = [];
    for (const delay of [0, 25, 50, 75, 100, 150, 200, 300]) {
      const agent = await startAgent();
      const arn = await cluster.runOneOff([{ command: ['sleep', '3600'], portMappings: [{ containerPort: 8080 }] }]);
      const runtimeId = `${arn.split('/').at(-1)}-c0`;
      // The fault's timing, not a wait for a condition.
      await new Promise((r) => setTimeout(r, delay));
      expect(await agent.kill('SIGKILL')).toBeNull();
      const atKill = await cluster.waitForTask(arn, () => true);
      const restartedAt = Date.now();
      const restarted = await startAgent();
      const t = await cluster.waitForTask(arn, (t) => t.lastStatus === 'RUNNING', 30_000).catch((err: Error) => {
        // What the agents said is what tells a stall's cause; CI keeps nothing else.
        throw new Error(`${err.message}\nkilled ${delay} ms after RunTask (status then ${atKill.lastStatus}); the killed agent said:\n${agent.stderr().slice(-5000)}\nthe restarted agent said:\n${restarted.stderr().slice(-8000)}`);
      });
      figures.push({ killAfterMs: delay, statusAtKill: atKill.lastStatus!, restartToRunningMs: Date.now() - restartedAt });
      expect(t.containers![0]!.runtimeId).toBe(runtimeId);
      expect(runcContainers(join(dataDir, 'runtime', 'runc'))).toEqual([runtimeId]);
      expect(conmons(runtimeId)).toBe(1);
      expect(netnsList().filter((n) => n.includes(runtimeId))).toEqual([`berth-${runtimeId}`]);
      expect(bridgeVeths()).toBe(1);
      expect(overlayRoots(runtimeId)).toBe(1);
      await stopAndCheckNothingLeft(restarted, arn, runtimeId);
      await restarted.kill('SIGTERM');
      expect(bridgeVeths(true)).toBe(0);
    }
    console.log(JSON.stringify({ agentKill: figures }));
  }, 600_000);

  async function stopAndCheckNothingLeft(agent: BerthAgentProcess, arn: string, runtimeId: string): Promise<void> {
    await cluster.ecs.send(new StopTaskCommand({ task: arn }));
    await cluster.waitForTask(arn, (t) => t.lastStatus === 'STOPPED');
    // Cleanup runs ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION (1 s) after the stop; the task is then forgotten.
    const taskId = arn.split('/').at(-1)!;
    await agent.waitForLog(new RegExp(`"task":"[^"]*${taskId}"[^\\n]*"msg":"task cleaned up"`), 30_000);
    expect({
      runc: runcContainers(join(dataDir, 'runtime', 'runc')),
      conmons: conmons(runtimeId),
      netns: netnsList().filter((n) => n.includes(runtimeId)),
      veths: bridgeVeths(),
      mounts: mountsOf(runtimeId),
      rules: natRules(runtimeId),
      published: await mappedPorts({ bridge: bridge.BERTH_BRIDGE_NAME }),
      cgroups: cgroupsOf(runtimeId),
    }).toEqual({ runc: [], conmons: 0, netns: [], veths: 0, mounts: [], rules: [], published: [], cgroups: [] });
  }

  /**
   * Host-side veths attached to this test's bridge, but for those of warm attachments (namespaces
   * berth-pool-* that no task's name aliases), which the agent keeps ready for the next starts; `all`
   * counts those too.
   */
  function bridgeVeths(all = false): number {
    let links: { link_netnsid?: number }[];
    try {
      links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', bridge.BERTH_BRIDGE_NAME], { encoding: 'utf8' }) || '[]') as typeof links;
    } catch {
      return 0; // no bridge (yet)
    }
    if (all) return links.length;
    const spaces = JSON.parse(execFileSync('ip', ['-j', 'netns', 'list'], { encoding: 'utf8' }) || '[]') as { name: string; id?: number }[];
    const tasks = new Set(spaces.filter((s) => !s.name.startsWith('berth-pool-')).map((s) => s.id));
    const warm = new Set(spaces.filter((s) => s.name.startsWith('berth-pool-') && s.id !== undefined && !tasks.has(s.id)).map((s) => s.id));
    return links.filter((l) => !warm.has(l.link_netnsid)).length;
  }
});

function conmons(id: string): number {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('conmon') && l.includes(`--cid ${id} `)).length;
}

function mountsOf(id: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.includes(id));
}

/**
 * How many overlay roots the container has: mounted on the host by the agent (its rootfs directory), or mounted
 * by runc inside the container's own mount namespace (its root's upper directory given as an absolute path, where
 * the agent's host mount gives relative ones). One, for a container that is neither doubled nor missing its root.
 */
function overlayRoots(id: string): number {
  const onHost = mountsOf(id).filter((m) => m.endsWith('/rootfs')).length;
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return ''; // gone meanwhile
    }
  };
  // The container's process (`sleep 3600`), told from other tests' by its cgroup, named after the container.
  const pid = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && read(`/proc/${p}/cmdline`) === 'sleep\u00003600\u0000')
    .find((p) => read(`/proc/${p}/cgroup`).includes(id));
  const root = pid ? read(`/proc/${pid}/mountinfo`).split('\n').find((l) => l.split(' ')[4] === '/') : undefined;
  const byRuntime = root?.includes(' - overlay ') && new RegExp(`upperdir=/[^,]*${id}/upper`).test(root) ? 1 : 0;
  return onHost + byRuntime;
}

/** iptables (nft-backed here) and native nft rules that name the container (CNI portmap tags its rules with the id). */
function natRules(id: string): string[] {
  // stderr: iptables-nft's "managed by iptables-nft" warnings.
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const text = run('iptables-save', []) + run('nft', ['list', 'ruleset']);
  return text.split('\n').filter((l) => l.includes(id));
}

/** The container's cgroup directories in every hierarchy. */
function cgroupsOf(id: string): string[] {
  const found: string[] = [];
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    for (const dir of [join('/sys/fs/cgroup', hierarchy, 'berth', id), join('/sys/fs/cgroup', hierarchy, 'berth', '_conmon', id)]) {
      try {
        readdirSync(dir);
        found.push(dir);
      } catch {
        // absent
      }
    }
  }
  return found;
}
