#!/usr/bin/env node
// Requests/s and p99 latency through three reverse proxies on loopback to the same 4 backends, measured with wrk
// (keep-alive connections, GET /):
//   berth    — HAProxy 2.6 driven by berth's data plane (dist/lb: the rendered config with ALB's headers, rule
//              variables, health checks on /, targets added at start), one listener, one target group;
//   haproxy  — the same HAProxy binary with a minimal hand-written config (frontend → roundrobin backend of 4
//              servers with plain checks);
//   nginx    — Debian's nginx as a reverse proxy (upstream with keepalive, HTTP/1.1 to the backends).
// Backends: one separate nginx serving a fixed 2-byte body on 4 ports (C, cheap per request, keep-alive), so the
// proxies, not the backends, are what is measured. Rounds alternate the three proxies so that other load on a
// shared machine falls on all of them; each figure is the median over rounds. Prints one JSON line with
// `berth_vs_haproxy` = berth rps / hand-configured rps (target ≥ 0.95) and `berth_p99_vs_haproxy` = berth p99 /
// hand-configured p99.
//
//   npm run build && node bench/lb-throughput.mjs [--seconds 5] [--rounds 3] [--connections 32]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LbDriver } from '../dist/lb/lb-driver.js';
import { runWrk } from './lib/wrk.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '32' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

for (const bin of ['haproxy', 'nginx', 'wrk']) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${bin} is not installed (apt-get install -y ${bin})`);
  }
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'lbb-'));
const children = [];
const quiet = { info() {}, warn() {}, error: (c, m) => console.error(m, c) };

function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.on('exit', (code) => {
    if (code && !child.expectedExit) console.error(`${cmd} exited ${code}: ${err}`);
  });
  children.push(child);
  return child;
}

async function waitHttp(port) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      if (r.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answers on ${port}`);
}

let driver;
try {
  // The backends.
  const backendPorts = await Promise.all([1, 2, 3, 4].map(() => freePort()));
  const nginxBase = (name, body) => {
    const d = join(dir, name);
    execFileSync('mkdir', ['-p', d]);
    writeFileSync(
      join(d, 'nginx.conf'),
      `daemon off;\nworker_processes 1;\npid ${d}/nginx.pid;\nerror_log ${d}/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  client_body_temp_path ${d}; proxy_temp_path ${d}; fastcgi_temp_path ${d}; uwsgi_temp_path ${d}; scgi_temp_path ${d};\n  keepalive_requests 1000000;\n${body}\n}\n`,
    );
    return join(d, 'nginx.conf');
  };
  run('nginx', ['-c', nginxBase('backends', backendPorts.map((p) => `  server { listen 127.0.0.1:${p}; location / { return 200 'ok'; } }`).join('\n')), '-e', join(dir, 'backends', 'error.log')]);
  await Promise.all(backendPorts.map(waitHttp));

  // berth's HAProxy.
  const berthPort = await freePort();
  driver = new LbDriver({ dir: join(dir, 'berth'), bindAddress: '127.0.0.1', log: quiet });
  await driver.start({
    loadBalancers: [{ id: 'bench', name: 'bench', type: 'application', listeners: [{ id: 'l', port: berthPort, protocol: 'HTTP', defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 'web', weight: 1 }] }, rules: [] }] }],
    targetGroups: [
      {
        id: 'web',
        name: 'web',
        protocol: 'HTTP',
        healthCheck: { protocol: 'HTTP', path: '/', port: 'traffic-port', intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200' },
        attributes: { deregistrationDelaySeconds: 300, slowStartSeconds: 0, stickiness: { enabled: false, type: 'lb_cookie', durationSeconds: 86400 }, algorithm: 'round_robin' },
        targets: backendPorts.map((port) => ({ address: '127.0.0.1', port })),
      },
    ],
  });
  const deadline = Date.now() + 20_000;
  while (driver.health().filter((h) => h.state === 'healthy').length < 4) {
    if (Date.now() > deadline) throw new Error(`berth's targets not healthy: ${JSON.stringify(driver.health())}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // The same HAProxy by hand.
  const handPort = await freePort();
  execFileSync('mkdir', ['-p', join(dir, 'hand')]);
  writeFileSync(
    join(dir, 'hand', 'haproxy.cfg'),
    `global\n  master-worker\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind 127.0.0.1:${handPort}\n  default_backend b\nbackend b\n  balance roundrobin\n${backendPorts.map((p, i) => `  server s${i} 127.0.0.1:${p} check`).join('\n')}\n`,
  );
  run('haproxy', ['-W', '-f', join(dir, 'hand', 'haproxy.cfg')]);

  // nginx as a reverse proxy.
  const nginxPort = await freePort();
  run('nginx', [
    '-c',
    nginxBase(
      'proxy',
      `  upstream web { ${backendPorts.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 64; }\n  server { listen 127.0.0.1:${nginxPort}; location / { proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
    ).replace('worker_processes 1;', 'worker_processes auto;'),
    '-e',
    join(dir, 'proxy', 'error.log'),
  ]);
  await Promise.all([waitHttp(berthPort), waitHttp(handPort), waitHttp(nginxPort)]);

  const targets = { berth: berthPort, haproxy: handPort, nginx: nginxPort };
  const results = { berth: [], haproxy: [], nginx: [] };
  const request = { method: 'GET', path: '/', headers: { Host: 'bench.local' }, body: '' };
  for (const [name, port] of Object.entries(targets)) await runWrk({ url: `http://127.0.0.1:${port}`, requests: [request], connections, seconds: 1, threads: 1 }); // warm-up
  for (let r = 0; r < rounds; r++)
    for (const [name, port] of Object.entries(targets)) results[name].push(await runWrk({ url: `http://127.0.0.1:${port}`, requests: [request], connections, seconds, threads: 1 }));

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = Object.fromEntries(Object.entries(results).map(([k, rs]) => [k, { rps: median(rs.map((x) => x.rps)), p99_ms: median(rs.map((x) => x.p99_ms)), runs_rps: rs.map((x) => x.rps) }]));
  console.log(
    JSON.stringify({
      bench: 'lb-throughput',
      backends: 4,
      connections,
      seconds,
      rounds,
      ...summary,
      berth_vs_haproxy: Number((summary.berth.rps / summary.haproxy.rps).toFixed(3)),
      // Latency beside throughput: berth's p99 over the hand-configured HAProxy's (lower is better).
      berth_p99_vs_haproxy: Number((summary.berth.p99_ms / summary.haproxy.p99_ms).toFixed(3)),
      berth_vs_nginx: Number((summary.berth.rps / summary.nginx.rps).toFixed(3)),
    }),
  );
} finally {
  await driver?.stop();
  for (const c of children) {
    c.expectedExit = true;
    c.kill('SIGTERM');
  }
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  rmSync(dir, { recursive: true, force: true });
}
