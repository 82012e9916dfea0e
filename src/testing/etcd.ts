import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './docker-registry.js';

/** etcd from Debian's etcd-server package (3.4). */
export const ETCD = '/usr/bin/etcd';

/** How a test cluster's members are configured; the defaults suit tests (fast elections, large txns). */
export interface EtcdClusterOptions {
  readonly members?: number;
  /** etcd's `--max-txn-ops` (its own default is 128). */
  readonly maxTxnOps?: number;
  /** etcd's `--max-request-bytes` (its own default is 1.5 MiB). */
  readonly maxRequestBytes?: number;
  /**
   * The address every member listens on, for clients and peers (default 127.0.0.1). A lab bridge's address
   * lets a replica in a network namespace reach etcd (test/e2e/support/hosts.ts).
   */
  readonly host?: string;
  /**
   * Serve clients over TLS: the members' certificate and key (PEM files), and the CA whose certificates
   * clients must present (etcd's `--client-cert-auth`). Client URLs are then `https://`.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile: string };
}

export interface EtcdMember {
  readonly name: string;
  /** `http://HOST:PORT`, the client URL. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly running: boolean;
}

/** A real etcd cluster of local processes on loopback ports, each member with its own temporary data directory. */
export interface EtcdCluster {
  /** Every member's client URL, in member order. */
  readonly endpoints: readonly string[];
  readonly members: readonly EtcdMember[];
  /** The index of the member the running members agree leads the raft group, once one does (within 10 s). */
  leader(): Promise<number>;
  /** SIGKILL one member (it can be restarted with its data). */
  kill(member: number): Promise<void>;
  /** Start a killed member again on the same ports and data directory, and wait until it serves. */
  restart(member: number): Promise<void>;
  /** Kill every member and delete the data directories. */
  stop(): Promise<void>;
}

interface MemberState {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  child?: ChildProcess;
  stderr: string;
}

/**
 * Start `members` etcd processes forming one cluster and wait until every member is healthy. Fails loudly
 * when etcd is not installed: the tests that need it must not pass by skipping.
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  if (!existsSync(ETCD)) {
    throw new Error(`${ETCD} is missing: install Debian's etcd-server package (scripts/install.sh --test)`);
  }
  const n = options.members ?? 1;
  const host = options.host ?? '127.0.0.1';
  // tmpfs when there is one: etcd fsyncs every commit, which is slow on a shared disk and proves nothing here.
  const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'berth-etcd-'));
  const members: MemberState[] = Array.from({ length: n }, (_, i) => ({ name: `m${i}`, clientPort: 0, peerPort: 0, dataDir: join(root, `m${i}`), stderr: '' }));
  let initialCluster = '';
  /**
   * Ports found free, distinct within the cluster. A free port can still be taken by another process before etcd
   * binds it (other test files pick ports at the same time): the start below tries again with new ones then.
   */
  const assignPorts = async () => {
    const taken = new Set<number>();
    const pick = async () => {
      for (;;) {
        const port = await freePort(host);
        if (taken.has(port)) continue;
        taken.add(port);
        return port;
      }
    };
    for (const m of members) {
      m.clientPort = await pick();
      m.peerPort = await pick();
    }
    initialCluster = members.map((m) => `${m.name}=http://${host}:${m.peerPort}`).join(',');
  };
  const tls = options.tls;
  const scheme = tls ? 'https' : 'http';
  const args = (m: MemberState) => [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', `${scheme}://${host}:${m.clientPort}`,
    '--advertise-client-urls', `${scheme}://${host}:${m.clientPort}`,
    ...(tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile, '--client-cert-auth', '--trusted-ca-file', tls.clientCaFile] : []),
    '--listen-peer-urls', `http://${host}:${m.peerPort}`,
    '--initial-advertise-peer-urls', `http://${host}:${m.peerPort}`,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', `berth-test-${process.pid}`,
    // Fast failure detection for tests: heartbeats every 25 ms, elections after 250 ms.
    '--heartbeat-interval', '25',
    '--election-timeout', '250',
    '--max-txn-ops', String(options.maxTxnOps ?? 1024),
    '--max-request-bytes', String(options.maxRequestBytes ?? 1_572_864),
    '--logger', 'zap',
    '--log-level', 'error',
  ];
  const launch = (m: MemberState) => {
    m.stderr = '';
    const child = spawn(ETCD, args(m), { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => {
      // Keep the tail only: it is for the error message when a member fails to start.
      m.stderr = (m.stderr + d.toString()).slice(-4_000);
    });
    m.child = child;
  };
  // With TLS the health endpoint wants a client certificate too (--client-cert-auth).
  const healthy = async (m: MemberState): Promise<boolean> => {
    if (!tls) {
      const res = await fetch(`http://${host}:${m.clientPort}/health`, { signal: AbortSignal.timeout(1_000) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsGet(
        { host, port: m.clientPort, path: '/health', ca: readFileSync(tls.certFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), timeout: 1_000 },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(res.statusCode === 200 ? text : ''));
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
    });
    return body !== '' && (JSON.parse(body) as { health?: string }).health === 'true';
  };
  const waitHealthy = async (m: MemberState) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (m.child?.exitCode !== null) throw new Error(`etcd member ${m.name} exited: ${m.stderr}`);
      try {
        if (await healthy(m)) return;
      } catch {
        // not serving yet, or no leader yet
      }
      if (Date.now() > deadline) throw new Error(`etcd member ${m.name} did not become healthy: ${m.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const killMember = async (m: MemberState) => {
    const child = m.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  const isRunning = (m: MemberState) => !!m.child && m.child.exitCode === null && m.child.signalCode === null;

  for (let attempt = 1; ; attempt++) {
    try {
      await assignPorts();
      members.forEach(launch);
      await Promise.all(members.map(waitHealthy));
      break;
    } catch (error) {
      await Promise.all(members.map(killMember));
      const portTaken = members.some((m) => m.stderr.includes('address already in use'));
      if (portTaken && attempt < 3) {
        for (const m of members) rmSync(m.dataDir, { recursive: true, force: true });
        continue;
      }
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }
  const memberAt = (i: number) => {
    const m = members[i];
    if (!m) throw new Error(`no etcd member ${i}`);
    return m;
  };
  const endpointOf = (m: MemberState) => `${scheme}://${host}:${m.clientPort}`;
  /** A member's own id and the leader it knows, from etcd's JSON gateway (ids are uint64 decimal strings). */
  const status = async (m: MemberState) => {
    const res = await fetch(`${endpointOf(m)}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
    return { id: body.header?.member_id, leader: body.leader };
  };
  return {
    endpoints: members.map(endpointOf),
    get members() {
      return members.map((m) => ({ name: m.name, endpoint: endpointOf(m), clientPort: m.clientPort, running: isRunning(m) }));
    },
    async leader() {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const seen = await Promise.all(members.map((m) => (isRunning(m) ? status(m).catch(() => undefined) : undefined)));
        const leaders = new Set(seen.map((s) => s?.leader).filter((l) => l !== undefined && l !== '0'));
        const index = seen.findIndex((s) => s?.id !== undefined && leaders.size === 1 && leaders.has(s.id));
        if (index >= 0) return index;
        if (Date.now() > deadline) throw new Error(`the etcd members do not agree on a leader: ${JSON.stringify(seen)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: (i) => killMember(memberAt(i)),
    async restart(i) {
      const m = memberAt(i);
      await killMember(m);
      launch(m);
      await waitHealthy(m);
    },
    async stop() {
      await Promise.all(members.map(killMember));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
