import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freeSubnet24,
  hostAddress,
  httpGet,
  iptablesLines,
  sh,
  startHttpd,
  startInNetns,
  startUdpEcho,
  udpAsk,
  uniqueTag,
  waitFor,
  type NetnsProcess,
} from '../testing/network-fixtures.js';
import { CniNetworkService, type CniNetworkOptions } from './cni-network-service.js';
import { pluginExec, type PluginExec } from './cni-exec.js';
import { CniPluginError, NetworkError } from './errors.js';
import type { Attachment } from './network.js';
import { removeMasquerade } from './masquerade.js';
import { mappedPorts, removePortMapTable, type Nft } from './nft-port-map.js';
import { HostPortAllocator } from './port-allocator.js';

const tag = uniqueTag();
const stateDir = mkdtempSync(join(tmpdir(), 'berth-net-test-'));
const www = join(stateDir, 'www');
const page = `hello from ${tag}\n`;
const networkName = `bt-${tag}`;
const bridgeName = `bt${tag}`;
let options: CniNetworkOptions;
let service: CniNetworkService;
let hostIp: string;
/** Dynamic ports from a random window, so that runs sharing this machine do not publish the same port. */
let ports: HostPortAllocator;
const processes: NetnsProcess[] = [];
const extraLinks: string[] = [];

beforeAll(async () => {
  mkdirSync(www);
  writeFileSync(join(www, 'index.html'), page);
  options = { stateDir, bridge: { name: networkName, bridge: bridgeName, subnet: await freeSubnet24() } };
  service = new CniNetworkService(options);
  hostIp = await hostAddress([bridgeName]);
  const first = 49153 + Math.floor(Math.random() * 16000);
  ports = new HostPortAllocator({ dynamicRange: { first, last: first + 300 } });
  const allocate = ports.allocate.bind(ports);
  ports.allocate = (owner, protocol) => {
    const port = allocate(owner, protocol);
    everHeld.set(owner, [...(everHeld.get(owner) ?? []), `${protocol} ${port}`]);
    return port;
  };
});

/** Every host port the tests allocated, by owner (an attachment id), also after it was released. */
const everHeld = new Map<string, string[]>();

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  for (const id of await service.list()) await service.detach(id).catch(() => undefined);
  for (const link of [bridgeName, ...extraLinks]) await sh('ip', ['link', 'del', link]).catch(() => undefined);
  await removeMasquerade(service.bridge);
  await removePortMapTable(service.bridge);
  rmSync(stateDir, { recursive: true, force: true });
});

const id = (name: string) => `t${tag}-${name}`;
const netnsName = (name: string) => `berth-${id(name)}`;

/** Everything on the host that still belongs to attachment `attachmentId`. */
async function leftovers(attachmentId: string) {
  const leaseDir = join(stateDir, 'ipam', networkName);
  const leases = existsSync(leaseDir)
    ? readdirSync(leaseDir).filter((f) => /^\d/.test(f) && readFileSync(join(leaseDir, f), 'utf8').startsWith(attachmentId))
    : [];
  return {
    netns: existsSync(`/var/run/netns/berth-${attachmentId}`),
    leases,
    ports: (await mappedPorts(service.bridge)).filter((p) => everHeld.get(attachmentId)?.includes(`${p.protocol} ${p.hostPort}`)),
    listed: (await service.list()).includes(attachmentId),
  };
}
const clean = { netns: false, leases: [], ports: [], listed: false };

async function serveHttp(name: string, attachment: Attachment) {
  const httpd = startHttpd(netnsName(name), 8080, www);
  processes.push(httpd);
  await waitFor(`httpd in ${name}`, () => httpGet(`http://${attachment.ipv4Address}:8080/`));
}

describe('bridge mode', () => {
  let web: Attachment;
  let dynamicPort: number;
  let fixedPort: number;

  it('gives the task an address on the bridge and publishes a dynamic and a fixed host port', async () => {
    dynamicPort = ports.allocate(id('web'), 'tcp');
    fixedPort = ports.allocate('fixed', 'tcp');
    web = await service.attach({
      id: id('web'),
      mode: 'bridge',
      portMappings: [
        { containerPort: 8080, hostPort: dynamicPort, protocol: 'tcp' },
        { containerPort: 8080, hostPort: fixedPort, protocol: 'tcp' },
      ],
    });
    const [net] = options.bridge!.subnet!.split('.0/');
    expect(web.netnsPath).toBe(`/var/run/netns/${netnsName('web')}`);
    expect(existsSync(web.netnsPath)).toBe(true);
    expect(web.ipv4Address).toMatch(new RegExp(`^${net!.replaceAll('.', '\\.')}\\.\\d+$`));
    expect(web.gateway).toBe(`${net}.1`);
    expect(web.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const links = await sh('ip', ['-n', netnsName('web'), '-o', 'link']);
    expect(links).toMatch(/: lo: <LOOPBACK,UP/);
    expect(links).toMatch(/: eth0@\S+: <[^>]*UP/);
  });

  it('is reachable at the task address, 127.0.0.1:<hostPort> and the host address:<hostPort>', async () => {
    await serveHttp('web', web);
    expect(await httpGet(`http://${web.ipv4Address}:8080/`)).toBe(page);
    for (const port of [dynamicPort, fixedPort]) {
      expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe(page);
      expect(await httpGet(`http://${hostIp}:${port}/`)).toBe(page);
    }
  });

  it('lets two tasks reach each other by address, and through a published port', async () => {
    const other = await service.attach({ id: id('other'), mode: 'bridge', portMappings: [] });
    expect(other.ipv4Address).not.toBe(web.ipv4Address);
    const wget = (from: string, url: string) => sh('ip', ['netns', 'exec', netnsName(from), 'busybox', 'wget', '-q', '-O', '-', url], 5_000);
    expect(await wget('other', `http://${web.ipv4Address}:8080/`)).toBe(page);
    expect(await wget('other', `http://${hostIp}:${dynamicPort}/`)).toBe(page);
    // ... and a task reaches itself through its own published port (hairpin).
    expect(await wget('web', `http://${hostIp}:${dynamicPort}/`)).toBe(page);
    await service.detach(id('other'));
  });

  it("reaches beyond the host with the host's address, through one masquerade rule for the subnet", async () => {
    // "Beyond the host": a namespace on its own link, with no route back to the bridge's subnet.
    const outside = `bo${tag}`;
    const hostEnd = `vo${tag}`;
    const [net] = (await freeSubnet24()).split('.0/');
    await sh('ip', ['netns', 'add', outside]);
    extraLinks.push(hostEnd);
    await sh('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
    await sh('ip', ['addr', 'add', `${net}.1/24`, 'dev', hostEnd]);
    await sh('ip', ['link', 'set', hostEnd, 'up']);
    await sh('ip', ['-n', outside, 'addr', 'add', `${net}.2/24`, 'dev', 'eth0']);
    await sh('ip', ['-n', outside, 'link', 'set', 'eth0', 'up']);
    const whoami = startInNetns(outside, [
      process.execPath,
      '-e',
      `const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(r.address,r.port,r.address));s.bind(7777);`,
    ]);
    processes.push(whoami);
    try {
      const ask = `const s=require('node:dgram').createSocket('udp4');s.on('message',(m)=>{console.log(String(m));process.exit(0)});` +
        `setInterval(()=>s.send('who',7777,'${net}.2'),100);setTimeout(()=>process.exit(1),3000);`;
      const seenAs = await waitFor('an answer from outside', () => sh('ip', ['netns', 'exec', netnsName('web'), process.execPath, '-e', ask]).catch(() => undefined));
      expect(seenAs.trim()).toBe(`${net}.1`);
      expect(await iptablesLines([`berth masquerade ${bridgeName}`])).toHaveLength(1);
    } finally {
      await whoami.stop();
      await sh('ip', ['netns', 'delete', outside]);
    }
  });

  it('publishes UDP ports', async () => {
    const udpPort = ports.allocate(id('udp'), 'udp');
    const udp = await service.attach({ id: id('udp'), mode: 'bridge', portMappings: [{ containerPort: 5353, hostPort: udpPort, protocol: 'udp' }] });
    const echo = startUdpEcho(netnsName('udp'), 5353, tag);
    processes.push(echo);
    expect(await waitFor('the UDP echo server', () => udpAsk(udp.ipv4Address!, 5353, 'direct', 200))).toBe(`${tag}:direct`);
    expect(await waitFor('UDP via 127.0.0.1', () => udpAsk('127.0.0.1', udpPort, 'local'))).toBe(`${tag}:local`);
    expect(await waitFor('UDP via the host address', () => udpAsk(hostIp, udpPort, 'host'))).toBe(`${tag}:host`);
    await echo.stop();
    await service.detach(id('udp'));
    ports.release(id('udp'));
    expect(await leftovers(id('udp'))).toEqual(clean);
  });

  it('detach removes the namespace, the address lease, the veth and the published ports', async () => {
    const before = await leftovers(id('web'));
    expect(before.netns).toBe(true);
    expect(before.leases).toEqual([web.ipv4Address]);
    expect(before.listed).toBe(true);
    expect(await mappedPorts(service.bridge)).toContainEqual({ protocol: 'tcp', hostPort: fixedPort, address: web.ipv4Address, containerPort: 8080 });
    expect(before.ports).toEqual([{ protocol: 'tcp', hostPort: dynamicPort, address: web.ipv4Address, containerPort: 8080 }]);
    const hostIfindex = /eth0@if(\d+)/.exec(await sh('ip', ['-n', netnsName('web'), '-o', 'link', 'show', 'eth0']))![1]!;

    await service.detach(id('web'));
    ports.release(id('web'));
    expect(await leftovers(id('web'))).toEqual(clean);
    expect((await mappedPorts(service.bridge)).filter((p) => p.address === web.ipv4Address)).toEqual([]);
    expect(await sh('ip', ['-o', 'link'])).not.toMatch(new RegExp(`^${hostIfindex}:`, 'm'));
    await expect(httpGet(`http://127.0.0.1:${dynamicPort}/`, 500)).rejects.toThrow();
    expect(ports.holdings().filter((h) => h.owner === id('web'))).toEqual([]);
  });

  it('detach is idempotent, and a no-op for an id never attached', async () => {
    await service.detach(id('web'));
    await service.detach(id('never'));
    expect(await leftovers(id('web'))).toEqual(clean);
  });

  it('attaches and detaches many tasks at once, each with its own address', async () => {
    const names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
    const attached = await Promise.all(
      names.map((n) => service.attach({ id: id(n), mode: 'bridge', portMappings: [{ containerPort: 80, hostPort: ports.allocate(id(n), 'tcp'), protocol: 'tcp' }] })),
    );
    expect(new Set(attached.map((a) => a.ipv4Address)).size).toBe(names.length);
    await Promise.all(names.map((n) => service.detach(id(n))));
    for (const n of names) expect(await leftovers(id(n))).toEqual(clean);
  });
});

describe('awsvpc mode', () => {
  it('gives each attachment its own address, serving the same port on each, and publishes no host port', async () => {
    const names = ['vpc-a', 'vpc-b'];
    const attached = await Promise.all(names.map((n) => service.attach({ id: id(n), mode: 'awsvpc', portMappings: [] })));
    expect(new Set(attached.map((a) => a.ipv4Address)).size).toBe(2);
    for (const [i, n] of names.entries()) {
      expect(attached[i]!.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      await serveHttp(n, attached[i]!);
      expect(await httpGet(`http://${attached[i]!.ipv4Address}:8080/`)).toBe(page);
      expect((await mappedPorts(service.bridge)).filter((p) => p.address === attached[i]!.ipv4Address)).toEqual([]);
    }
    await Promise.all(names.map((n) => service.detach(id(n))));
    for (const n of names) expect(await leftovers(id(n))).toEqual(clean);
  });
});

describe('none mode', () => {
  it('has only loopback, up', async () => {
    const a = await service.attach({ id: id('none'), mode: 'none', portMappings: [] });
    expect(a).toEqual({ netnsPath: `/var/run/netns/${netnsName('none')}` });
    const links = (await sh('ip', ['-n', netnsName('none'), '-o', 'link'])).trim().split('\n');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    await service.detach(id('none'));
    expect(await leftovers(id('none'))).toEqual(clean);
  });
});

describe('recovery', () => {
  it('a fresh service (an agent restart) lists and detaches what another instance attached', async () => {
    const port = ports.allocate(id('restart'), 'tcp');
    await service.attach({ id: id('restart'), mode: 'bridge', portMappings: [{ containerPort: 8080, hostPort: port, protocol: 'tcp' }] });
    const restarted = new CniNetworkService(options);
    expect(await restarted.list()).toContain(id('restart'));
    await restarted.detach(id('restart'));
    expect(await leftovers(id('restart'))).toEqual(clean);
  });

  it.each([
    [0, 'the namespace was made'],
    [1, 'loopback was set up'],
    [2, 'every plugin ran but the result was not recorded'],
  ])('detach from a fresh service finishes an attach that crashed after %i plugin runs: %s', async (runs) => {
    const real = pluginExec({ pluginDirs: ['/usr/lib/cni'], timeoutMs: 30_000 });
    let started = 0;
    let ran = 0;
    // The agent "dies" at a plugin boundary: its attach never returns and nothing more runs.
    const dying: PluginExec = async (...args) => {
      const n = ++started;
      if (n > runs) return new Promise<never>(() => {});
      const result = await real(...args);
      ran++;
      return n === runs ? new Promise<never>(() => {}) : result;
    };
    const crashId = id(`crash${runs}`);
    const port = ports.allocate(crashId, 'tcp');
    void new CniNetworkService({ ...options, pluginExec: dying }).attach({
      id: crashId,
      mode: 'bridge',
      portMappings: [{ containerPort: 8080, hostPort: port, protocol: 'tcp' }],
    });
    await waitFor(`${runs} plugin runs`, async () => started > 0 && ran === runs);
    if (runs >= 2) expect((await leftovers(crashId)).leases).toHaveLength(1);

    const restarted = new CniNetworkService(options);
    expect(await restarted.list()).toContain(crashId);
    await restarted.detach(crashId);
    expect(await leftovers(crashId)).toEqual(clean);
  });

  it('detach from a fresh service withdraws the ports of an attach that crashed once they were published', async () => {
    const crashId = id('crashports');
    const port = ports.allocate(crashId, 'tcp');
    let published = false;
    // The agent "dies" right after nft published the ports: the attach never returns.
    const dying: Nft = async (script) => {
      const { runNft } = await import('./nft-port-map.js');
      const result = await runNft(script);
      if (script.includes('add element')) {
        published = true;
        return new Promise<never>(() => {});
      }
      return result;
    };
    void new CniNetworkService({ ...options, nft: dying }).attach({ id: crashId, mode: 'bridge', portMappings: [{ containerPort: 8080, hostPort: port, protocol: 'tcp' }] });
    await waitFor('the ports published', async () => published || undefined);
    expect((await leftovers(crashId)).ports).toMatchObject([{ hostPort: port, containerPort: 8080 }]);
    const restarted = new CniNetworkService(options);
    await restarted.detach(crashId);
    expect(await leftovers(crashId)).toEqual(clean);
  });

  it('keeps everything while the ports cannot be withdrawn, for a later detach to finish', async () => {
    const port = ports.allocate(id('retry'), 'tcp');
    const attached = await service.attach({ id: id('retry'), mode: 'bridge', portMappings: [{ containerPort: 8080, hostPort: port, protocol: 'tcp' }] });
    // An agent that cannot run nft cannot withdraw the ports...
    const broken: Nft = async () => ({ code: 1, stderr: 'Error: Could not process rule: Operation not permitted' });
    const attempt = new CniNetworkService({ ...options, nft: broken }).detach(id('retry'));
    await expect(attempt).rejects.toMatchObject({ code: 'plugin-failed', message: expect.stringContaining('Operation not permitted') });
    // ... and then keeps the address leased: the next task to get it would receive this one's traffic.
    const left = await leftovers(id('retry'));
    expect(left).toMatchObject({ netns: true, listed: true, leases: [attached.ipv4Address] });
    expect(left.ports).toMatchObject([{ hostPort: port, address: attached.ipv4Address }]);
    // ... and a detach that can run nft finishes the job.
    await service.detach(id('retry'));
    expect(await leftovers(id('retry'))).toEqual(clean);
  });

  it('refuses a second attach of the same id, leaving the first intact', async () => {
    const first = await service.attach({ id: id('twice'), mode: 'bridge', portMappings: [] });
    const again = service.attach({ id: id('twice'), mode: 'bridge', portMappings: [] });
    await expect(again).rejects.toMatchObject({ code: 'already-attached', message: expect.stringContaining(id('twice')) });
    expect((await leftovers(id('twice'))).leases).toEqual([first.ipv4Address]);
    await service.detach(id('twice'));
    expect(await leftovers(id('twice'))).toEqual(clean);
  });

  it('a failed attach is undone and reports the plugin error', async () => {
    // A device that is not a bridge under the bridge's name makes the bridge plugin fail.
    const dummy = `bx${tag}`;
    extraLinks.push(dummy);
    await sh('ip', ['link', 'add', dummy, 'type', 'veth', 'peer', 'name', `by${tag}`]);
    const broken = new CniNetworkService({ ...options, bridge: { ...options.bridge, bridge: dummy } });
    const attempt = broken.attach({ id: id('broken'), mode: 'bridge', portMappings: [{ containerPort: 80, hostPort: ports.allocate(id('broken'), 'tcp'), protocol: 'tcp' }] });
    await expect(attempt).rejects.toBeInstanceOf(CniPluginError);
    await expect(attempt).rejects.toMatchObject({ code: 'plugin-failed', plugin: 'bridge', command: 'ADD', message: expect.stringContaining(dummy) });
    expect(await leftovers(id('broken'))).toEqual(clean);
    await removeMasquerade(broken.bridge);
  });

  it("refuses to attach over a namespace it did not make, and leaves that namespace alone", async () => {
    await sh('ip', ['netns', 'add', netnsName('foreign')]);
    try {
      const attempt = service.attach({ id: id('foreign'), mode: 'bridge', portMappings: [] });
      await expect(attempt).rejects.toMatchObject({ code: 'namespace-failed', message: expect.stringContaining('already exists') });
      expect(existsSync(`/var/run/netns/${netnsName('foreign')}`)).toBe(true);
      expect(await service.list()).not.toContain(id('foreign'));
      await service.detach(id('foreign'));
      expect(existsSync(`/var/run/netns/${netnsName('foreign')}`)).toBe(true);
    } finally {
      await sh('ip', ['netns', 'delete', netnsName('foreign')]);
    }
  });

  it('refuses bad input before creating anything', async () => {
    const attempt = service.attach({ id: id('bad'), mode: 'bridge', portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }] });
    await expect(attempt).rejects.toBeInstanceOf(NetworkError);
    await expect(attempt).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringContaining('portMappings[0]') });
    await expect(service.detach('../etc')).rejects.toMatchObject({ code: 'invalid-request' });
    expect(await leftovers(id('bad'))).toEqual(clean);
  });
});
