import { join } from 'node:path';
import type { EtcdCluster } from '../../../src/testing/etcd.js';
import { startBerthServer, type BerthServerProcess } from './berth-server.js';

/**
 * `berth server` replicas on one etcd sharing one shared directory (the queues' log and the root key pair), as the
 * SQS replica tests start them, and which of them leads (its /healthz role).
 */
export function sqsReplicaSet(root: string, etcd: () => EtcdCluster) {
  const shared = join(root, 'shared');
  const replicas: BerthServerProcess[] = [];
  const start = (i: number) =>
    startBerthServer(join(root, `replica-${i}`), ['--store', 'etcd', '--etcd-endpoints', etcd().endpoints.join(','), '--shared-dir', shared, '--replica-id', `r${i}`], {}, { credentialsDir: shared });
  const role = async (r: BerthServerProcess) => ((await (await fetch(`${r.url}/healthz`)).json()) as { role: string }).role;
  const alive = (r: BerthServerProcess) => r.child.exitCode === null && r.child.signalCode === null;
  const leaderOf = async () => {
    for (const r of replicas.filter(alive)) if ((await role(r)) === 'leader') return r;
    return undefined;
  };
  return { shared, replicas, start, role, alive, leaderOf };
}
