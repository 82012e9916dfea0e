// `berth server --store etcd` replicas as real processes (from dist/), sharing one etcd and one --shared-dir.
import { join } from 'node:path';
import { credentialsOf, startBerth } from './berth-processes.mjs';
import { MAX_TXN_OPS } from './etcd.mjs';

/**
 * Start one replica: its own data directory `dataDir`, the cluster's `sharedDir` (root credentials, blobs,
 * logs), `endpoints` of etcd, keys under `prefix`. Resolves once it listens, with its URL, root keys,
 * process, `stop()` (SIGTERM) and `kill()` (SIGKILL, waited for).
 */
export async function startReplica({ dataDir, sharedDir, endpoints, replicaId, prefix, logLevel = 'warn', nodeArgs = [] }) {
  const args = [
    'server', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', logLevel,
    '--store', 'etcd', '--etcd-endpoints', endpoints.join(','), '--etcd-max-txn-ops', String(MAX_TXN_OPS), '--shared-dir', sharedDir, '--replica-id', replicaId,
    ...(prefix ? ['--etcd-prefix', prefix] : []),
  ];
  const server = startBerth(args, { nodeArgs });
  const [, url] = await server.until(/listening on (http:\/\/\S+)/);
  const { child } = server;
  return {
    replicaId,
    url,
    child,
    keys: credentialsOf(sharedDir),
    stop: server.stop,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Start `count` replicas at once (one of them creates the shared credentials), ids r0, r1, … */
export function startReplicas({ count, root, endpoints, prefix, nodeArgs }) {
  const sharedDir = join(root, 'shared');
  return Promise.all(
    Array.from({ length: count }, (_, i) => startReplica({ dataDir: join(root, `r${i}`), sharedDir, endpoints, replicaId: `r${i}`, prefix, nodeArgs })),
  );
}

/** A replica's `GET /healthz` ({ role, store, replica }), or undefined when it does not answer within 1 s. */
export async function health(url) {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return await res.json();
  } catch {
    return undefined;
  }
}

/** Until exactly one of `replicas` says it leads (deadline `ms`); that replica. */
export async function waitForOneLeader(replicas, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const live = replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
    const roles = await Promise.all(live.map(async (r) => ({ r, h: await health(r.url) })));
    const leaders = roles.filter((x) => x.h?.role === 'leader');
    if (leaders.length === 1) return leaders[0].r;
    if (Date.now() > deadline) throw new Error(`no single leader after ${ms} ms: ${JSON.stringify(roles.map((x) => x.h))}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
