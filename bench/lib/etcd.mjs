// Real etcd clusters for the benchmarks (Debian's etcd-server, /usr/bin/etcd): local member processes on
// free loopback ports, configured as docs/ha.md tells an operator to (--max-txn-ops 1024, revision auto
// compaction). Unlike the tests' cluster (src/testing/etcd.ts, not built into dist/), members keep etcd's own
// heartbeat and election timing, and their data lives where the caller says, so that a bench can put etcd's
// write-ahead log on the same filesystem as the SQLite file it is compared with.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ETCD = '/usr/bin/etcd';
/** The members' `--max-txn-ops`; replicas are told the same with `--etcd-max-txn-ops`. */
export const MAX_TXN_OPS = 1024;

/** A free loopback TCP port (the kernel's choice, released before use). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start `members` etcd processes forming one cluster, with their data under `dir`, and wait until every
 * member reports healthy. Returns the client endpoints, the member pids and `stop()` (SIGKILL, waited for).
 */
export async function startEtcd({ members = 1, dir, name = 'etcd' }) {
  if (!existsSync(ETCD)) throw new Error(`${ETCD} is missing: apt-get install -y etcd-server`);
  const nodes = [];
  for (let i = 0; i < members; i++) nodes.push({ name: `${name}-m${i}`, client: await freePort(), peer: await freePort(), out: '' });
  const initialCluster = nodes.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  for (const m of nodes) {
    const dataDir = join(dir, m.name);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    m.child = spawn(ETCD, [
      '--name', m.name,
      '--data-dir', dataDir,
      '--listen-client-urls', `http://127.0.0.1:${m.client}`,
      '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `${name}-${process.pid}`,
      '--max-txn-ops', String(MAX_TXN_OPS),
      '--auto-compaction-mode', 'revision',
      '--auto-compaction-retention', '10000',
      '--logger', 'zap',
      '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    m.child.stderr.on('data', (d) => (m.out = (m.out + d).slice(-4000)));
  }
  const stop = () =>
    Promise.all(
      nodes.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }),
    );
  try {
    await Promise.all(nodes.map(waitHealthy));
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoints: nodes.map((m) => `http://127.0.0.1:${m.client}`), pids: nodes.map((m) => m.child.pid), stop };
}

async function waitHealthy(m) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (m.child.exitCode !== null) throw new Error(`etcd ${m.name} exited ${m.child.exitCode}: ${m.out}`);
    try {
      const res = await fetch(`http://127.0.0.1:${m.client}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok && (await res.json()).health === 'true') return;
    } catch {
      // not serving yet, or no leader elected yet
    }
    if (Date.now() > deadline) throw new Error(`etcd ${m.name} not healthy after 30 s: ${m.out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
