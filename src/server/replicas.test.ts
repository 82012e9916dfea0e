import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../state/keys.js';
import { FencedOffError } from '../store/fenced.js';
import { MemoryStore } from '../store/memory.js';
import { transact } from '../store/transact.js';
import { startApiFixture, type ApiFixture } from '../testing/api-server.js';
import { CutOffStore } from '../testing/cut-off-store.js';
import { removeAgentDir, startFakeAgent, type FakeAgent } from '../testing/fake-agents.js';

/**
 * Several replicas of `berth server` in one process on one shared store, each through its own view of it (which
 * a test can cut off, as a network partition would). Leader election, fencing, controllers moving with the
 * lead, and agent liveness kept in the store.
 */

const TTL = 1_000;

interface Replica {
  readonly api: ApiFixture;
  readonly view: CutOffStore;
  stopped: boolean;
}

let shared: MemoryStore;
let replicas: Replica[] = [];
let agents: FakeAgent[] = [];

async function replica(): Promise<Replica> {
  const view = new CutOffStore(shared);
  const api = await startApiFixture({
    storeInstance: view,
    leaseTtlMs: TTL,
    heartbeatMs: 200,
    agentSilenceMs: 1_000,
    serviceResyncMs: 1_000,
    instanceLostAfterMs: 60_000,
  });
  const r = { api, view, stopped: false };
  replicas.push(r);
  return r;
}

async function stop(r: Replica): Promise<void> {
  if (r.stopped) return;
  r.stopped = true;
  await r.api.stop();
}

async function healthz(r: Replica): Promise<{ status: number; body: { role: string; store: string; replica: string } }> {
  const res = await fetch(`${r.api.server.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { role: string; store: string; replica: string } };
}

/** The replicas (still running) whose /healthz says leader. */
async function leaders(): Promise<Replica[]> {
  const live = replicas.filter((r) => !r.stopped);
  const roles = await Promise.all(live.map(async (r) => (await healthz(r)).body.role));
  return live.filter((_, i) => roles[i] === 'leader');
}

async function oneLeader(timeout = TTL * 3): Promise<Replica> {
  await expect.poll(async () => (await leaders()).length, { timeout, interval: 20 }).toBe(1);
  return (await leaders())[0]!;
}

async function agentOn(r: Replica, options: Parameters<typeof startFakeAgent>[1] = {}, endpoint = r.api.server.url): Promise<FakeAgent> {
  const a = await startFakeAgent(endpoint, { cluster: 'ha', ...options });
  agents.push(a);
  return a;
}

async function agentConnected(r: Replica, agent: FakeAgent): Promise<boolean | undefined> {
  const { containerInstances } = await r.api.ecs.send(
    new DescribeContainerInstancesCommand({ cluster: 'ha', containerInstances: [agent.running.containerInstanceArn] }),
  );
  return containerInstances?.[0]?.agentConnected;
}

async function runningCount(r: Replica): Promise<number> {
  const { services } = await r.api.ecs.send(new DescribeServicesCommand({ cluster: 'ha', services: ['web'] }));
  return services![0]!.runningCount ?? 0;
}

afterEach(async () => {
  for (const a of agents) await a.stop();
  for (const r of replicas) r.view.setCut(false);
  for (const r of replicas) await stop(r);
  for (const a of agents) removeAgentDir(a);
  agents = [];
  replicas = [];
  await shared.close();
});

describe('three replicas on one store', () => {
  it('one leads (healthz); when it stops, another leads within the TTL and its controllers converge a service', async () => {
    shared = new MemoryStore();
    for (let i = 0; i < 3; i++) await replica();
    const first = await oneLeader();
    for (const r of replicas) expect(await healthz(r)).toMatchObject({ status: 200, body: { store: 'ok', replica: r.api.server.replicaId } });
    expect(new Set(replicas.map((r) => r.api.server.replicaId)).size).toBe(3);

    // Requests go to a follower: every replica serves every API.
    const follower = replicas.find((r) => r !== first)!;
    await follower.api.ecs.send(new CreateClusterCommand({ clusterName: 'ha' }));
    await follower.api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }));
    await agentOn(follower);
    await follower.api.ecs.send(new CreateServiceCommand({ cluster: 'ha', serviceName: 'web', taskDefinition: 'web:1', desiredCount: 2 }));
    await expect.poll(() => runningCount(follower), { timeout: 10_000, interval: 50 }).toBe(2);

    const stoppedAt = Date.now();
    await stop(first);
    const next = await oneLeader();
    expect(next).not.toBe(first);
    // A clean stop revokes the lease: the next leader does not wait for it to expire.
    expect(Date.now() - stoppedAt).toBeLessThan(TTL);
    await next.api.ecs.send(new UpdateServiceCommand({ cluster: 'ha', service: 'web', desiredCount: 3 }));
    await expect.poll(() => runningCount(next), { timeout: 10_000, interval: 50 }).toBe(3);
  });

  it("a leader whose keepalives fail steps down before its lease ends; the next leads within the TTL; the old term's writes are fenced", async () => {
    shared = new MemoryStore();
    for (let i = 0; i < 3; i++) await replica();
    const old = await oneLeader();
    const oldTerm = old.api.server.leadership.term()!;
    expect(oldTerm).toBeDefined();
    const leaderKeyGone = new Promise<number>((resolve) => {
      shared.watch('leader', {}, {
        onEvents: (events) => {
          if (events.some((e) => e.type === 'delete')) resolve(Date.now());
        },
        onError: () => {},
      });
    });
    let steppedDownAt: number | undefined;
    const failedAt = Date.now();
    old.view.leaseCallsFail = true;
    await expect
      .poll(
        async () => {
          if ((await healthz(old)).body.role === 'leader') return false;
          steppedDownAt ??= Date.now();
          return true;
        },
        { timeout: TTL * 2, interval: 10 },
      )
      .toBe(true);
    // The lease ends by expiry only (revokes fail too): the old leader let go before that.
    expect(steppedDownAt!).toBeLessThan(await leaderKeyGone);
    const next = await oneLeader();
    expect(next).not.toBe(old);
    expect(Date.now() - failedAt).toBeLessThan(TTL * 2);

    await expect(transact(oldTerm.store, async (tx) => tx.put(keys.cluster('fenced'), '{}'))).rejects.toBeInstanceOf(FencedOffError);
    await transact(next.api.server.leadership.term()!.store, async (tx) => tx.put(keys.cluster('fenced'), '{"by":"new"}'));
    expect((await shared.get(keys.cluster('fenced')))?.value).toBe('{"by":"new"}');
  });

  it("keeps agent liveness in the store: a replica dying disconnects only its agents, which reconnect elsewhere; starting replicas flip nothing", async () => {
    shared = new MemoryStore();
    const [a, b] = [await replica(), await replica()];
    await oneLeader();
    await a.api.ecs.send(new CreateClusterCommand({ clusterName: 'ha' }));
    const onA = await agentOn(a);
    const onB = await agentOn(b);
    await expect.poll(() => agentConnected(b, onA), { timeout: 5_000, interval: 20 }).toBe(true);
    await expect.poll(() => agentConnected(a, onB), { timeout: 5_000, interval: 20 }).toBe(true);

    // Another replica starting writes nothing to the instance records (no "all disconnected at start").
    const before = await Promise.all([onA, onB].map(async (x) => (await shared.get(keys.containerInstance('ha', x.instanceId)))!.modRevision));
    await replica();
    const after = await Promise.all([onA, onB].map(async (x) => (await shared.get(keys.containerInstance('ha', x.instanceId)))!.modRevision));
    expect(after).toEqual(before);

    // A dies without cleaning up: it can no longer reach the store, then its sockets close.
    a.view.setCut(true);
    const diedAt = Date.now();
    expect(await healthz(a)).toMatchObject({ status: 503, body: { store: 'unavailable' } });
    await onA.stop();
    await stop(a);
    await expect.poll(() => agentConnected(b, onA), { timeout: TTL * 4, interval: 20 }).toBe(false);
    expect(Date.now() - diedAt).toBeLessThan(TTL * 3);
    expect(await agentConnected(b, onB)).toBe(true);

    // The agent comes back through B, as the same instance.
    const back = await agentOn(b, { dataDir: onA.dataDir, world: onA.world });
    expect(back.instanceId).toBe(onA.instanceId);
    await expect.poll(() => agentConnected(b, back), { timeout: 5_000, interval: 20 }).toBe(true);
  });

  it('an agent given every replica moves off a dying one by itself and never shows disconnected', async () => {
    shared = new MemoryStore();
    const [a, b] = [await replica(), await replica()];
    await oneLeader();
    await a.api.ecs.send(new CreateClusterCommand({ clusterName: 'ha' }));
    const agent = await agentOn(a, {}, `${a.api.server.url},${b.api.server.url}`);
    await expect.poll(() => agentConnected(b, agent), { timeout: 5_000, interval: 20 }).toBe(true);
    const key = keys.containerInstance('ha', agent.instanceId);
    const flags: boolean[] = [];
    shared.watch(key, {}, { onEvents: (events) => events.forEach((e) => e.type === 'put' && flags.push(JSON.parse(e.entry.value).instance.agentConnected)), onError: () => {} });
    const holder = async () => JSON.parse((await shared.get(keys.presence('ha', agent.instanceId)))?.value ?? '{}').replica as string | undefined;
    const from = (await holder()) === a.api.server.replicaId ? a : b;
    const to = from === a ? b : a;

    // Its replica dies without cleaning up: cut off from the store, then its sockets close.
    from.view.setCut(true);
    const diedAt = Date.now();
    await stop(from);
    await expect.poll(holder, { timeout: 10_000, interval: 20 }).toBe(to.api.server.replicaId);
    // The dead replica's lease ends within a TTL of its death; the presence key moved to the other lease before,
    // so its expiry takes nothing with it.
    await expect.poll(() => Date.now() - diedAt > TTL * 2, { timeout: TTL * 3, interval: 50 }).toBe(true);
    expect(await agentConnected(to, agent)).toBe(true);
    expect(flags).not.toContain(false);
  });
});

