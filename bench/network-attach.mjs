#!/usr/bin/env node
// Latency of NetworkService attach and detach with the real CNI plugins (needs root and `npm run build`):
// `bridge` with one port mapping, and `none`, done one at a time as a task's start would. Also reports
// where attach and detach spend their time, per plugin. Prints one JSON line (milliseconds).
//
//   node bench/network-attach.mjs [--runs 30]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pluginExec } from '../dist/network/cni-exec.js';
import { CniNetworkService } from '../dist/network/cni-network-service.js';
import { HostPortAllocator } from '../dist/network/port-allocator.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);
const tag = randomBytes(4).toString('hex');
const stateDir = mkdtempSync(join(tmpdir(), 'berth-bench-net-'));
const bridge = `bb${tag}`;
// A /24 no route on this host overlaps (other runs may share the machine).
const routes = execFileSync('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
let subnet;
do subnet = `10.${200 + (randomBytes(1)[0] % 50)}.${randomBytes(1)[0]}.0/24`;
while (routes.includes(subnet.slice(0, subnet.lastIndexOf('.'))));

const pluginTimes = {};
const real = pluginExec({ pluginDirs: ['/usr/lib/cni'], timeoutMs: 30_000 });
const timedExec = async (type, command, target, stdin) => {
  const started = performance.now();
  try {
    return await real(type, command, target, stdin);
  } finally {
    (pluginTimes[`${type} ${command}`] ??= []).push(performance.now() - started);
  }
};
const service = new CniNetworkService({ stateDir, bridge: { name: `bench-${tag}`, bridge, subnet }, pluginExec: timedExec });
const first = 49153 + Math.floor(Math.random() * 15000);
const ports = new HostPortAllocator({ dynamicRange: { first, last: first + 500 } });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const round = (x) => Math.round(x * 10) / 10;

async function measure(mode) {
  const attach = [];
  const detach = [];
  for (let i = -3; i < runs; i++) {
    const id = `bench-${tag}-${mode}-${i + 3}`;
    const portMappings = mode === 'bridge' ? [{ containerPort: 80, hostPort: ports.allocate(id, 'tcp'), protocol: 'tcp' }] : [];
    let t = performance.now();
    await service.attach({ id, mode, portMappings });
    const a = performance.now() - t;
    t = performance.now();
    await service.detach(id);
    const d = performance.now() - t;
    ports.release(id);
    // The first few warm the bridge, iptables chains and page cache.
    if (i >= 0) {
      attach.push(a);
      detach.push(d);
    }
  }
  return { attachP50: round(median(attach)), attachP90: round(p90(attach)), detachP50: round(median(detach)), detachP90: round(p90(detach)) };
}

try {
  const bridgeFigures = await measure('bridge');
  const bridgePlugins = Object.fromEntries(Object.entries(pluginTimes).map(([k, v]) => [k, round(median(v))]));
  for (const k of Object.keys(pluginTimes)) delete pluginTimes[k];
  const noneFigures = await measure('none');
  console.log(JSON.stringify({ bench: 'network-attach', runs, bridgeOnePort: bridgeFigures, none: noneFigures, pluginP50: bridgePlugins }));
} finally {
  for (const id of await service.list()) await service.detach(id).catch(() => undefined);
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    // never created
  }
  rmSync(stateDir, { recursive: true, force: true });
}
