/**
 * The driver against a real HAProxy 2.6 on loopback, with Node HTTP servers as targets.
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredState, Listener } from './desired.js';
import { LbDriver, type LbDriverOptions, type TargetHealth } from './lb-driver.js';
import { runtimeCommand } from './haproxy-runtime.js';
import { parseCounterReading } from './traffic-counters.js';
import { albState, freePort, get, labDir, memoryLog, requireHaproxy, startBackend, startLoad, targetGroup, until, type Backend } from './testing/lb-lab.js';

beforeAll(() => {
  requireHaproxy();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function backends(...names: string[]): Promise<Backend[]> {
  const all = await Promise.all(names.map((n) => startBackend(n)));
  cleanups.push(() => Promise.all(all.map((b) => b.close())).then(() => undefined));
  return all;
}

async function driver(
  initial: DesiredState,
  healthSink?: (h: readonly TargetHealth[]) => void,
  more: Partial<LbDriverOptions> = {},
): Promise<{ d: LbDriver; log: ReturnType<typeof memoryLog> }> {
  const lab = labDir();
  const log = memoryLog();
  const d = new LbDriver({ dir: lab.dir, bindAddress: '127.0.0.1', log, healthPollMs: 200, ...(healthSink ? { onHealth: healthSink } : {}), ...more });
  cleanups.push(async () => {
    await d.stop();
    lab.cleanup();
  });
  await d.start(initial);
  return { d, log };
}

const healthOf = (d: LbDriver, port: number) => d.health().find((h) => h.target.port === port);

function http(port: number, rules: Listener['rules'], defaultTg = 'a'): Listener {
  return { id: 'l1', port, protocol: 'HTTP', defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: defaultTg, weight: 1 }] }, rules };
}

describe('routing', () => {
  it('routes by path and by host header in priority order, answers fixed responses and redirects, adds X-Forwarded-*', async () => {
    const [web, api, admin] = await backends('web', 'api', 'admin');
    const port = await freePort();
    const listener = http(port, [
      { id: 'r-api', priority: 10, conditions: [{ field: 'path-pattern', values: ['/api/*'] }], action: { type: 'forward', targetGroups: [{ targetGroupId: 'api', weight: 1 }] } },
      // A lower priority number wins over the path rule above for admin.example.com.
      { id: 'r-admin', priority: 5, conditions: [{ field: 'host-header', values: ['admin.*'] }], action: { type: 'forward', targetGroups: [{ targetGroupId: 'admin', weight: 1 }] } },
      { id: 'r-gone', priority: 20, conditions: [{ field: 'path-pattern', values: ['/gone'] }], action: { type: 'fixed-response', statusCode: 410, contentType: 'text/plain', messageBody: 'gone for good' } },
      { id: 'r-old', priority: 30, conditions: [{ field: 'path-pattern', values: ['/old/*'] }, { field: 'http-request-method', values: ['GET'] }], action: { type: 'redirect', statusCode: 'HTTP_301', host: 'new.example.com', path: '/new/#{path}' } },
    ]);
    const { d } = await driver(albState([listener], [targetGroup('a', [web!.target]), targetGroup('api', [api!.target]), targetGroup('admin', [admin!.target])]));
    await until('all healthy', () => d.health().filter((h) => h.state === 'healthy').length === 3);

    expect((await get(port, '/')).body).toBe('web');
    expect((await get(port, '/api/users')).body).toBe('api');
    expect((await get(port, '/api/users', { host: 'admin.example.com' })).body).toBe('admin');
    expect((await get(port, '/', { host: 'ADMIN.example.com:8080' })).body).toBe('admin');
    expect(await get(port, '/gone')).toMatchObject({ status: 410, body: 'gone for good' });
    const moved = await get(port, '/old/page?x=1', { host: 'site.example.com' });
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe(`http://new.example.com:${port}/new/old/page?x=1`);
    expect(api!.lastHeaders['x-forwarded-for']).toBe('127.0.0.1');
    expect(api!.lastHeaders['x-forwarded-proto']).toBe('http');
    expect(api!.lastHeaders['x-forwarded-port']).toBe(String(port));
  });

  it('serves an NLB TCP listener (mode tcp) with TCP health checks', async () => {
    const echo = createServer((s) => s.on('data', (d) => s.end(`echo:${d.toString()}`)));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => echo.close(() => r())));
    const target = { address: '127.0.0.1', port: (echo.address() as AddressInfo).port };
    const port = await freePort();
    const state: DesiredState = {
      loadBalancers: [{ id: 'nlb', name: 'nlb', type: 'network', listeners: [{ id: 'tcp1', port, protocol: 'TCP', defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 't', weight: 1 }] }, rules: [] }] }],
      targetGroups: [targetGroup('t', [target], { protocol: 'TCP', healthCheck: { protocol: 'TCP', path: '/', port: 'traffic-port', intervalSeconds: 1, timeoutSeconds: 1, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200-399' } })],
    };
    const { d } = await driver(state);
    await until('tcp target healthy', () => healthOf(d, target.port)?.state === 'healthy');
    const answer = await new Promise<string>((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => c.write('ping'));
      let got = '';
      c.on('data', (b) => (got += b.toString()));
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
    expect(answer).toBe('echo:ping');
  });

  it('splits a weighted forward between target groups by weight (±5 points over 2,000 requests)', async () => {
    const [blue, green] = await backends('blue', 'green');
    const port = await freePort();
    const listener: Listener = { id: 'l1', port, protocol: 'HTTP', defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 'blue', weight: 70 }, { targetGroupId: 'green', weight: 30 }] }, rules: [] };
    const { d } = await driver(albState([listener], [targetGroup('blue', [blue!.target]), targetGroup('green', [green!.target])]));
    await until('both healthy', () => d.health().every((h) => h.state === 'healthy') && d.health().length === 2);
    const load = startLoad(port, 8);
    await until('2,000 requests', () => load.count() >= 2000, 15_000);
    const r = await load.stop();
    expect(r.failures).toEqual([]);
    const share = (100 * (r.byBody.get('green') ?? 0)) / r.ok;
    expect(share).toBeGreaterThan(25);
    expect(share).toBeLessThan(35);
  });
});

describe('changes', () => {
  it('adds and removes targets through the runtime API, without a reload, under load with no failed request', async () => {
    const [one, two, three] = await backends('one', 'two', 'three');
    const port = await freePort();
    const tg = (targets: Backend[]) => targetGroup('a', targets.map((b) => b.target), { attributes: { deregistrationDelaySeconds: 3 } });
    const { d } = await driver(albState([http(port, [])], [tg([one!])]));
    await until('one healthy', () => healthOf(d, one!.target.port)?.state === 'healthy');
    const worker = d.process.currentWorkerPid;
    const load = startLoad(port, 8);

    expect(await d.apply(albState([http(port, [])], [tg([one!, two!, three!])]))).toBe('targets');
    expect(healthOf(d, two!.target.port)).toBeUndefined(); // not polled yet: reported from the next poll
    await until('two and three serving', () => two!.hits > 20 && three!.hits > 20);
    await until('all reported healthy', () => d.health().filter((h) => h.state === 'healthy').length === 3, 2_000);

    expect(await d.apply(albState([http(port, [])], [tg([three!])]))).toBe('targets');
    const [hitsOne, hitsTwo] = [one!.hits, two!.hits];
    // With no request in flight, deregistration completes at once (ELBv2 does too), long before the delay.
    await until('drained and deleted', () => d.health().length === 1, 2_000);
    await until('load goes on', () => three!.hits > 200);
    const r = await load.stop();
    expect(r.failures).toEqual([]);
    expect(r.ok).toBeGreaterThan(300);
    // Nothing new reached the removed targets once they were draining.
    expect(one!.hits - hitsOne + two!.hits - hitsTwo).toBeLessThanOrEqual(8);
    expect(d.process.currentWorkerPid).toBe(worker);
  });

  it('a deregistered target finishes its requests in flight while draining, then is deleted', async () => {
    const [fast] = await backends('fast');
    const slow = await startBackend('slow', { slowMs: 1_500 });
    cleanups.push(() => slow.close());
    const port = await freePort();
    const tg = (targets: Backend[]) => targetGroup('a', targets.map((b) => b.target), { attributes: { deregistrationDelaySeconds: 10 } });
    const { d } = await driver(albState([http(port, [])], [tg([fast!, slow])]));
    await until('both healthy', () => d.health().filter((h) => h.state === 'healthy').length === 2);
    const load = startLoad(port, 4);
    await until('a request in flight at slow', () => slow.hits > 0);
    await d.apply(albState([http(port, [])], [tg([fast!])]));
    const hits = slow.hits;
    await until('slow draining', () => healthOf(d, slow.target.port)?.state === 'draining', 2_000);
    expect(healthOf(d, slow.target.port)).toMatchObject({ reason: 'Target.DeregistrationInProgress' });
    // Its last response comes back (1.5 s), then it is deleted, well within the 10 s delay.
    await until('slow deleted', () => d.health().length === 1, 5_000);
    const r = await load.stop();
    expect(r.failures).toEqual([]);
    expect(r.byBody.get('slow')).toBe(hits);
  });

  it('a new target gets no request before it passes its healthy threshold (ELBv2 initial), and one that keeps failing turns unhealthy', async () => {
    const [one, sick] = await backends('one', 'sick');
    sick!.healthStatus = 500;
    const port = await freePort();
    const { d } = await driver(albState([http(port, [])], [targetGroup('a', [one!.target])]));
    await until('one healthy', () => healthOf(d, one!.target.port)?.state === 'healthy');
    await d.apply(albState([http(port, [])], [targetGroup('a', [one!.target, sick!.target])]));
    const addedAt = Date.now();
    const load = startLoad(port, 4);
    await until('checks ran', () => healthOf(d, sick!.target.port)?.state === 'initial', 3_000);
    expect(healthOf(d, sick!.target.port)?.reason).toBe('Elb.InitialHealthChecking');
    // Never healthy, failing every check: unhealthy with its reason once interval (1 s) × unhealthy threshold (2)
    // have passed, as an ELB target failing its initial checks (else a task that never comes up is never replaced).
    await until('sick unhealthy', () => healthOf(d, sick!.target.port)?.state === 'unhealthy', 6_000);
    expect(Date.now() - addedAt).toBeGreaterThanOrEqual(2_000);
    expect(healthOf(d, sick!.target.port)).toMatchObject({ reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [500]' });
    const r = await load.stop();
    expect(r.failures).toEqual([]);
    expect(sick!.hits).toBe(0);
  });

  it('changes a rule through a seamless reload under load with no error', async () => {
    const [web, api] = await backends('web', 'api');
    const port = await freePort();
    const tgs = [targetGroup('a', [web!.target]), targetGroup('api', [api!.target])];
    const { d } = await driver(albState([http(port, [])], tgs));
    await until('web healthy', () => healthOf(d, web!.target.port)?.state === 'healthy');
    // No listener forwards to api yet: ELBv2's unused.
    expect(healthOf(d, api!.target.port)).toMatchObject({ state: 'unused', reason: 'Target.NotInUse' });
    // Checked while unused (2 = its healthy threshold; the third comes a poll later).
    await until('api checked', () => api!.healthChecks >= 3);
    const worker = d.process.currentWorkerPid;
    const load = startLoad(port, 8);
    await until('some load', () => load.count() > 200);
    const rule = { id: 'all-api', priority: 1, conditions: [{ field: 'path-pattern' as const, values: ['/*'] }], action: { type: 'forward' as const, targetGroups: [{ targetGroupId: 'api', weight: 1 }] } };
    expect(await d.apply(albState([http(port, [rule])], tgs))).toBe('reload');
    expect(d.process.currentWorkerPid).not.toBe(worker);
    const before = api!.hits;
    await until('load on the new rule', () => api!.hits > before + 200);
    const r = await load.stop();
    expect(r.failures).toEqual([]);
    expect((await get(port, '/')).body).toBe('api');
    // The reload kept the targets' health (server state file): nothing went back to initial. api's state is read
    // back from HAProxy each second, so it says 'unused' until the first read after the reload.
    const seen = new Set<string>();
    await until('api in use', () => {
      const state = healthOf(d, api!.target.port)?.state;
      if (state) seen.add(state);
      return state !== 'unused';
    });
    expect(seen.has('initial')).toBe(false);
    expect(d.health().map((h) => h.state)).toEqual(['healthy', 'healthy']);
  });
});

describe('traffic counters', () => {
  it('has them read just before a del server or a reload restarts them, from the worker that holds them', async () => {
    const [web, other] = await backends('web', 'other');
    const port = await freePort();
    const seen: { pid: number; requests: number }[] = [];
    let d: LbDriver | undefined;
    const beforeCountersReset = async () => {
      const reading = parseCounterReading(await runtimeCommand(d!.process.paths.adminSocket, 'show info;show stat'));
      seen.push({ pid: Number(reading.pid), requests: [...reading.servers.values()].reduce((s, c) => s + c.requests, 0) });
    };
    const tg = (targets: Backend[]) => targetGroup('a', targets.map((b) => b.target), { attributes: { deregistrationDelaySeconds: 5 } });
    ({ d } = await driver(albState([http(port, [])], [tg([web!, other!])]), undefined, { beforeCountersReset }));
    await until('both healthy', () => d!.health().filter((h) => h.state === 'healthy').length === 2);
    for (let i = 0; i < 10; i++) expect((await get(port, '/')).status).toBe(200);
    const worker = d.process.currentWorkerPid;
    // Deregistered and idle: read before its server (and its counters) is deleted.
    await d.apply(albState([http(port, [])], [tg([web!])]));
    await until('read before the deletion', () => seen.length > 0, 5_000);
    expect(seen[0]).toEqual({ pid: worker, requests: 10 });
    // A reload: read from the old worker, before the new one (counters from zero) takes over.
    const rule = { id: 'fixed', priority: 1, conditions: [{ field: 'path-pattern' as const, values: ['/fixed'] }], action: { type: 'fixed-response' as const, statusCode: 200 } };
    const count = seen.length;
    expect(await d.apply(albState([http(port, [rule])], [tg([web!])]))).toBe('reload');
    expect(seen.length).toBe(count + 1);
    expect(seen.at(-1)!.pid).toBe(worker);
    expect(d.process.currentWorkerPid).not.toBe(worker);
  });
});

describe('health', () => {
  it('a target failing its check stops getting traffic within interval × unhealthy threshold, with its reason, and comes back', async () => {
    const [good, flaky] = await backends('good', 'flaky');
    const port = await freePort();
    const reports: (readonly TargetHealth[])[] = [];
    const { d } = await driver(albState([http(port, [])], [targetGroup('a', [good!.target, flaky!.target])]), (h) => reports.push(h));
    await until('both healthy', () => d.health().filter((h) => h.state === 'healthy').length === 2);
    const load = startLoad(port, 4);
    await until('flaky serving', () => flaky!.hits > 10);

    flaky!.healthStatus = 503;
    const failedAt = Date.now();
    await until('flaky unhealthy', () => healthOf(d, flaky!.target.port)?.state === 'unhealthy', 5_000);
    // interval 1 s × threshold 2, plus one poll.
    expect(Date.now() - failedAt).toBeLessThan(2_000 + 1_000);
    expect(healthOf(d, flaky!.target.port)).toMatchObject({ reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [503]' });
    const hits = flaky!.hits;
    await until('load goes on', () => good!.hits > 200);
    expect(flaky!.hits).toBe(hits);

    flaky!.healthStatus = 200;
    await until('flaky healthy again', () => healthOf(d, flaky!.target.port)?.state === 'healthy', 5_000);
    await until('flaky serving again', () => flaky!.hits > hits + 10);
    flaky!.hangHealth = true;
    await until('flaky timed out', () => healthOf(d, flaky!.target.port)?.reason === 'Target.Timeout', 6_000);
    await flaky!.close();
    const r = await load.stop();
    expect(r.failures).toEqual([]);
    expect(reports.some((h) => h.some((t) => t.state === 'unhealthy'))).toBe(true);
  });

  it('kill -9 of HAProxy: restarted from the desired state, traffic resumes', async () => {
    const [one, two] = await backends('one', 'two');
    const port = await freePort();
    const { d, log } = await driver(albState([http(port, [])], [targetGroup('a', [one!.target])]));
    await until('one healthy', () => healthOf(d, one!.target.port)?.state === 'healthy');
    // A target added at runtime (not in the config the process started with) survives the restart.
    await d.apply(albState([http(port, [])], [targetGroup('a', [one!.target, two!.target])]));
    await until('two healthy', () => healthOf(d, two!.target.port)?.state === 'healthy');
    const master = d.process.masterPid!;
    process.kill(master, 'SIGKILL');
    await until('a new master', () => d.process.currentWorkerPid !== undefined && d.process.masterPid !== master, 10_000);
    await until('serving again', async () => (await get(port, '/')).status === 200, 5_000);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await get(port, '/')).body);
    expect([...seen].sort()).toEqual(['one', 'two']);
    expect(log.lines.some((l) => l.startsWith('warn haproxy exited'))).toBe(true);
  });
});
