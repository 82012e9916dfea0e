import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeSubnet24, hostAddress, httpGet, sh, startHttpd, uniqueTag, waitFor, type NetnsProcess } from '../testing/network-fixtures.js';
import type { AttachmentRecord } from './attachment-store.js';
import { CniNetworkService, type CniNetworkOptions } from './cni-network-service.js';
import { removeMasquerade } from './masquerade.js';
import { mappedPorts, removePortMapTable } from './nft-port-map.js';

/**
 * Warm attachments with the real plugins: a bridge attach takes a ready one (named after its task, its
 * ports published), a restarted service adopts or drops what the last one left, and close() leaves nothing.
 */
const tag = uniqueTag();
const stateDir = mkdtempSync(join(tmpdir(), 'berth-net-warm-test-'));
const bridgeName = `bw${tag}`;
const prefix = `bw${tag}-`;
const www = join(stateDir, 'www');
let options: CniNetworkOptions;
let hostIp: string;
const services: CniNetworkService[] = [];
const processes: NetnsProcess[] = [];
const port = 49153 + Math.floor(Math.random() * 16000);

beforeAll(async () => {
  rmSync(www, { recursive: true, force: true });
  await sh('mkdir', ['-p', www]);
  writeFileSync(join(www, 'index.html'), `warm ${tag}\n`);
  options = { stateDir, netnsPrefix: prefix, bridge: { name: `bw-${tag}`, bridge: bridgeName, subnet: await freeSubnet24() }, warmPool: { size: 1, refillDelayMs: 50 } };
  hostIp = await hostAddress([bridgeName]);
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  for (const s of services) await s.close().catch(() => undefined);
  const last = open({ warmPool: { size: 0 } });
  for (const id of await last.list()) await last.detach(id).catch(() => undefined);
  for (const name of ourNamespaces()) await sh('ip', ['netns', 'delete', name]).catch(() => undefined);
  await sh('ip', ['link', 'del', bridgeName]).catch(() => undefined);
  await removeMasquerade(last.bridge);
  await removePortMapTable(last.bridge);
  rmSync(stateDir, { recursive: true, force: true });
});

function open(extra: Partial<CniNetworkOptions> = {}): CniNetworkService {
  const service = new CniNetworkService({ ...options, ...extra });
  services.push(service);
  return service;
}

const ourNamespaces = () => (existsSync('/var/run/netns') ? readdirSync('/var/run/netns').filter((n) => n.startsWith(prefix)) : []);
const records = () => readdirSync(join(stateDir, 'attachments')).filter((f) => f.endsWith('.json'));
const leases = () => readdirSync(join(stateDir, 'ipam', `bw-${tag}`)).filter((f) => /^\d/.test(f));
const bridgeVeths = async () => (await sh('ip', ['-o', 'link', 'show', 'master', bridgeName]).catch(() => '')).split('\n').filter(Boolean).length;
const poolRecord = (): AttachmentRecord => {
  const file = records().find((f) => f.startsWith('pool-'))!;
  return JSON.parse(readFileSync(join(stateDir, 'attachments', file), 'utf8')) as AttachmentRecord;
};

describe('warm bridge attachments', () => {
  let service: CniNetworkService;

  it('keeps one ready, made as a pool attachment that list() does not show', async () => {
    service = open();
    await service.startWarmPool((what, error) => {
      throw new Error(`pool ${what} failed: ${String(error)}`);
    });
    await waitFor('a warm attachment', async () => service.warmCount === 1);
    expect(await service.list()).toEqual([]);
    expect(ourNamespaces()).toEqual([poolRecord().netnsName]);
    expect(leases()).toHaveLength(1);
    expect(await bridgeVeths()).toBe(1);
  });

  it('a bridge attach takes it: the namespace named after the task, its address, its port published; the pool refills', async () => {
    const warm = poolRecord();
    const a = await service.attach({ id: 'task1', mode: 'bridge', portMappings: [{ containerPort: 8080, hostPort: port, protocol: 'tcp' }] });
    expect(a.netnsPath).toBe(`/var/run/netns/${prefix}task1`);
    expect(lstatSync(a.netnsPath).isSymbolicLink()).toBe(true);
    const eth = warm.networks.find((n) => n.ifName === 'eth0')!.result!;
    expect(a.ipv4Address).toBe(eth.ips![0]!.address.split('/')[0]);
    expect(await service.list()).toEqual(['task1']);
    expect(await mappedPorts({ bridge: bridgeName })).toEqual([{ protocol: 'tcp', hostPort: port, address: a.ipv4Address, containerPort: 8080 }]);
    const httpd = startHttpd(`${prefix}task1`, 8080, www);
    processes.push(httpd);
    await waitFor('httpd in the task', () => httpGet(`http://${a.ipv4Address}:8080/`));
    expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe(`warm ${tag}\n`);
    expect(await httpGet(`http://${hostIp}:${port}/`)).toBe(`warm ${tag}\n`);
    // Hairpin: the task reaches itself through its published port.
    expect(await sh('ip', ['netns', 'exec', `${prefix}task1`, 'busybox', 'wget', '-q', '-O', '-', `http://${hostIp}:${port}/`], 5_000)).toBe(`warm ${tag}\n`);
    await httpd.stop();
    await waitFor('the pool refilled', async () => service.warmCount === 1);
    expect(leases()).toHaveLength(2);
    expect(await bridgeVeths()).toBe(2);
  });

  it('detach of a task that took a warm one leaves nothing of it', async () => {
    await service.detach('task1');
    expect(await service.list()).toEqual([]);
    expect(ourNamespaces()).toEqual([poolRecord().netnsName]);
    expect(records()).toEqual([`${poolRecord().id}.json`]);
    expect(leases()).toHaveLength(1);
    expect(await mappedPorts({ bridge: bridgeName })).toEqual([]);
    expect(await bridgeVeths()).toBe(1);
  });

  it('a new service (agent restart) adopts the ready one, and drops the pool record of one handed out before a crash', async () => {
    const taken = await service.attach({ id: 'task2', mode: 'bridge', portMappings: [] });
    await waitFor('the pool refilled', async () => service.warmCount === 1);
    const ready = `${poolRecord().id}.json`;
    // A crash between writing the task's record and removing the pool's: both are on disk.
    const task2 = JSON.parse(readFileSync(join(stateDir, 'attachments', 'task2.json'), 'utf8')) as AttachmentRecord;
    const { pooledFrom, ...rest } = task2;
    const stale: AttachmentRecord = { ...rest, id: pooledFrom!.id, mode: 'bridge', netnsName: pooledFrom!.netnsName, netnsPath: `/var/run/netns/${pooledFrom!.netnsName}` };
    writeFileSync(join(stateDir, 'attachments', `${stale.id}.json`), JSON.stringify(stale));
    // ... and a half-made one (its namespace never made).
    writeFileSync(join(stateDir, 'attachments', 'pool-0000000000ff.json'), JSON.stringify({ ...stale, id: 'pool-0000000000ff', netnsName: `${prefix}pool-0000000000ff`, netnsPath: `/var/run/netns/${prefix}pool-0000000000ff`, networks: stale.networks.map(({ result: _, ...n }) => n) }));

    const restarted = open();
    await restarted.startWarmPool();
    expect(restarted.warmCount).toBe(1);
    expect(records().sort()).toEqual([ready, 'task2.json'].sort());
    expect(await restarted.list()).toEqual(['task2']);
    // The adopted one is handed out as any.
    const again = await restarted.attach({ id: 'task3', mode: 'bridge', portMappings: [] });
    expect(again.ipv4Address).not.toBe(taken.ipv4Address);
    expect(existsSync(`/var/run/netns/${prefix}${ready.slice(0, -'.json'.length)}`)).toBe(true);
    await restarted.detach('task2');
    await restarted.detach('task3');
    expect(await restarted.list()).toEqual([]);
    service = restarted;
  });

  it('close() detaches the warm attachments: no namespace, veth, lease or record left', async () => {
    await waitFor('the pool refilled', async () => service.warmCount === 1);
    await Promise.all(services.map((s) => s.close()));
    expect(ourNamespaces()).toEqual([]);
    expect(records()).toEqual([]);
    expect(leases()).toEqual([]);
    expect(await bridgeVeths()).toBe(0);
    expect(service.warmCount).toBe(0);
  });

  it('refills with attachments of its own, never by taking a ready one', async () => {
    const two = open({ warmPool: { size: 2, refillDelayMs: 10 }, netnsPrefix: `${prefix}two-` });
    await two.startWarmPool();
    await waitFor('two warm attachments', async () => two.warmCount === 2);
    await two.attach({ id: 'task-two', mode: 'bridge', portMappings: [] });
    await waitFor('the pool refilled', async () => two.warmCount === 2);
    const names = ourNamespaces().filter((n) => n.startsWith(`${prefix}two-`));
    // Three namespaces of their own (two warm, the task's), and the task's one alias.
    expect(names.filter((n) => !lstatSync(`/var/run/netns/${n}`).isSymbolicLink())).toHaveLength(3);
    expect(names.filter((n) => lstatSync(`/var/run/netns/${n}`).isSymbolicLink())).toEqual([`${prefix}two-task-two`]);
    await two.detach('task-two');
    await two.close();
    expect(ourNamespaces()).toEqual([]);
    expect(records()).toEqual([]);
  });
});
