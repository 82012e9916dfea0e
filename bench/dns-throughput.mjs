#!/usr/bin/env node
// DNS queries/s and latency from one client on loopback, berth's DNS server against a peer, same records:
//
//   berth     `berth server --store memory --dns-listen 127.0.0.1:<port>` from dist/, a private DNS namespace
//             bench.internal with one service `web` (A and SRV records, MULTIVALUE) of 1,000 instances
//             registered through the Cloud Map API; answers come from the server's informer cache.
//   dnsmasq   Debian's dnsmasq serving the same names from a hosts file (--addn-hosts, no upstream): the
//             1,000 instance names `w-N.web.bench.internal`, and `web.bench.internal` with 8 addresses
//             (dnsmasq has no random subsets: it always answers the same 8).
//
// Query mixes: `service` = A of web.bench.internal (berth picks 8 of 1,000 at random per query);
// `instances` = A of w-N.web.bench.internal, N round-robin over the 1,000. Each mix runs closed-loop with
// `--window` queries outstanding (throughput, and latency under that load), open loop at `--rate` queries/s (the
// issue's target: 20,000/s with a p99 of at most 1 ms; `answered` below the rate means the server fell behind) and
// with one outstanding (latency unloaded). The server is pinned to CPU 0 and this client to CPU 1 (when there are two) so "one core" is
// the server's; its CPU seconds per 1,000 queries are reported too (less noisy than q/s on a shared machine).
// Needs `npm run build` and dnsmasq (apt-get install dnsmasq-base; scripts/install.sh --test installs it).
// Prints one JSON line.
//
//   node bench/dns-throughput.mjs [--seconds 5] [--window 32] [--rate 20000] [--instances 1000] [--cpu-prof-dir DIR] [--skip-dnsmasq]
//                                [--compare-cli OTHER/dist/cli/main.js]   (another build measured in the same run)
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreatePrivateDnsNamespaceCommand, CreateServiceCommand, GetOperationCommand, RegisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import dnsPacket from 'dns-packet';
import { startBerth, credentialsOf, shebangNodeOptions, stopAll } from './lib/berth-processes.mjs';
import { cpuSeconds } from './lib/process-cpu.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, window: { type: 'string', default: '32' }, instances: { type: 'string', default: '1000' }, 'cpu-prof-dir': { type: 'string' }, rate: { type: 'string', default: '20000' }, 'skip-dnsmasq': { type: 'boolean', default: false }, 'compare-cli': { type: 'string' } } });
const seconds = Number(values.seconds);
const window = Number(values.window);
const instances = Number(values.instances);
const rate = Number(values.rate);
const DNSMASQ = '/usr/sbin/dnsmasq';
const twoCores = Number(execFileSync('nproc').toString().trim()) >= 2;
const pin = (pid, cpu) => twoCores && execFileSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
pin(process.pid, 1);

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-dns-'));
const quantile = (xs, q) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const ip = (i) => `10.${20 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;

async function freePort() {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  s.close();
  return port;
}

/**
 * Closed loop (`outstanding` queries in flight, each answer sends the next) or, with `rate`, open loop: queries sent
 * at `rate` per second whatever the answers (paced on every turn of the event loop, not in timer bursts), which is
 * how "N queries/s with a p99 of M ms" is read; latencies in ms.
 */
async function load(port, names, outstanding, ms, pid, rate = 0) {
  const socket = createSocket('udp4');
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  const encoded = names.map((name) => dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] }));
  const sentAt = new Float64Array(65536);
  const latencies = [];
  let next = 0;
  let id = 0;
  let answered = 0;
  let errors = 0;
  let empty = 0;
  let measuring = false;
  let stopped = false;
  const send = () => {
    const q = Buffer.from(encoded[next++ % encoded.length]);
    id = (id + 1) & 0xffff;
    q.writeUInt16BE(id, 0);
    sentAt[id] = performance.now();
    socket.send(q, port, '127.0.0.1');
  };
  socket.on('message', (msg) => {
    const got = msg.readUInt16BE(0);
    // An answer to a query already given up on (or a duplicate) does not count and sends nothing.
    if (!sentAt[got]) return;
    const t = performance.now() - sentAt[got];
    sentAt[got] = 0;
    const rcode = msg.readUInt16BE(2) & 0xf;
    if (measuring) {
      answered++;
      latencies.push(t);
      if (rcode !== 0) errors++;
      else if (msg.readUInt16BE(6) === 0) empty++;
    }
    if (!stopped && !rate) send();
  });
  let paced = 0;
  const pacedFrom = performance.now();
  const pace = () => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - pacedFrom) * rate) / 1000);
    // A stall (the machine is shared) is not made up in one burst of thousands: at most 64 at once.
    for (let n = 0; paced < due && n < 64; n++, paced++) send();
    paced = Math.max(paced, due - 64);
    setImmediate(pace);
  };
  // A lost datagram would shrink the window for good: top it up once a second.
  const refill = setInterval(() => {
    const now = performance.now();
    let late = 0;
    for (let i = 0; i < 65536; i++) if (sentAt[i] && now - sentAt[i] > 1000) (sentAt[i] = 0), late++;
    for (let i = 0; i < late && !stopped && !rate; i++) send();
  }, 1000);
  if (rate) pace();
  else for (let i = 0; i < outstanding; i++) send();
  await new Promise((r) => setTimeout(r, 500)); // warm-up
  const cpu0 = cpuSeconds(pid);
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  stopped = true;
  clearInterval(refill);
  await new Promise((r) => setTimeout(r, 100));
  socket.close();
  latencies.sort((a, b) => a - b);
  return {
    qps: Math.round(answered / elapsed),
    p50_ms: round(quantile(latencies, 0.5), 3),
    p99_ms: round(quantile(latencies, 0.99), 3),
    server_cpu_ms_per_1k: round((cpu * 1e6) / Math.max(1, answered), 1),
    server_cpu_share: round(cpu / elapsed, 2),
    errors,
    empty,
  };
}

async function measure(port, pid, mixes) {
  const out = {};
  for (const [mix, names] of Object.entries(mixes)) {
    out[mix] = {
      loaded: await load(port, names, window, seconds * 1000, pid),
      [`paced_${rate}`]: await load(port, names, 0, seconds * 1000, pid, rate),
      unloaded: await load(port, names, 1, Math.max(2, seconds / 2) * 1000, pid),
    };
  }
  return out;
}

/** One `berth server` (this build's, or `cli`'s) with the namespace of `instances` instances, measured. */
async function berth(cli, name) {
  const dataDir = join(dir, name);
  const dnsPort = await freePort();
  mkdirSync(dataDir);
  // --cpu-prof-dir DIR: the server writes a V8 CPU profile there when it stops (node --cpu-prof).
  const nodeArgs = values['cpu-prof-dir'] ? [...shebangNodeOptions().split(' ').filter(Boolean), '--cpu-prof', `--cpu-prof-dir=${values['cpu-prof-dir']}`] : [];
  const server = startBerth(['server', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--store', 'memory', '--dns-listen', `127.0.0.1:${dnsPort}`, '--log-level', 'warn'], { nodeArgs, ...(cli ? { cli } : {}) });
  const [, url] = await server.until(/listening on (http:\/\/\S+)/);
  pin(server.child.pid, 0);
  const sd = new ServiceDiscoveryClient({ region: 'us-east-1', endpoint: url, credentials: credentialsOf(dataDir), disableHostPrefix: true });
  const op = await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'bench.internal', Vpc: 'vpc-bench' }));
  // Namespace operations are asynchronous (older builds finish them at once): wait for SUCCESS.
  let created = (await sd.send(new GetOperationCommand({ OperationId: op.OperationId }))).Operation;
  while (created.Status !== 'SUCCESS') {
    if (created.Status === 'FAIL') throw new Error(`namespace creation failed: ${created.ErrorMessage}`);
    await new Promise((r) => setTimeout(r, 50));
    created = (await sd.send(new GetOperationCommand({ OperationId: op.OperationId }))).Operation;
  }
  const nsId = created.Targets.NAMESPACE;
  const svc = (await sd.send(new CreateServiceCommand({ Name: 'web', NamespaceId: nsId, DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'A', TTL: 5 }, { Type: 'SRV', TTL: 5 }] } }))).Service;
  const t0 = performance.now();
  for (let i = 1; i <= instances; i++) {
    await sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id, InstanceId: `w-${i}`, Attributes: { AWS_INSTANCE_IPV4: ip(i), AWS_INSTANCE_PORT: '8080' } }));
  }
  result[`${name}_register_ms_per_instance`] = round((performance.now() - t0) / instances, 2);
  sd.destroy();
  try {
    return await measure(dnsPort, server.child.pid, mixes);
  } finally {
    await server.stop();
  }
}

const instanceNames = Array.from({ length: instances }, (_, i) => `w-${i + 1}.web.bench.internal`);
const mixes = { service: ['web.bench.internal'], instances: instanceNames };
const result = { instances, window, seconds, cores_pinned: twoCores };
try {
  // berth (and, with --compare-cli, another build of it in the same run: before/after figures on the same machine)
  result.berth = await berth(undefined, 'berth');
  if (values['compare-cli']) result.berth_compare = await berth(values['compare-cli'], 'berth-compare');

  // dnsmasq
  if (values['skip-dnsmasq']) {
    result.dnsmasq = 'skipped (--skip-dnsmasq)';
  } else if (!existsSync(DNSMASQ)) {
    result.dnsmasq = 'not installed (apt-get install dnsmasq-base)';
  } else {
    const hosts = join(dir, 'hosts');
    const lines = instanceNames.map((name, i) => `${ip(i + 1)} ${name}`);
    for (let i = 1; i <= 8; i++) lines.push(`${ip(i)} web.bench.internal`);
    writeFileSync(hosts, lines.join('\n') + '\n');
    const port = await freePort();
    const dnsmasq = spawn(DNSMASQ, ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`, '--local-ttl=5', '--pid-file=', '--user=root'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    if (dnsmasq.exitCode !== null) throw new Error(`dnsmasq exited ${dnsmasq.exitCode}`);
    pin(dnsmasq.pid, 0);
    result.dnsmasq = await measure(port, dnsmasq.pid, mixes);
    const exited = new Promise((r) => dnsmasq.once('exit', r));
    dnsmasq.kill('SIGTERM');
    await exited;
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
