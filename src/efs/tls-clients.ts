/**
 * Who may speak TLS to the bricks: revocation of berth's GlusterFS certificates by an allow-list of certificate
 * names, which GlusterFS enforces itself (`auth.ssl-allow`: a brick accepts a TLS client only when its certificate's
 * CN is in the list, and re-checks its connected clients when the list changes, dropping those no longer in it).
 *
 *   berth-storage-<host id>   a storage host (its bricks, self-heal daemon and glusterd's own clients)
 *   berth-agent-<instance id> an agent, for the container instance a task runs on
 *
 * A container instance deregistered (INACTIVE) leaves the list, so the certificates issued to its agent stop being
 * accepted, and ResolveMount refuses it a new one. berth has no deregistration of storage hosts, so every storage
 * host that ever registered stays in the list. Chosen over a CRL (`ssl.crl-path`): a CRL is only read for new
 * connections and needs every issued serial recorded; the allow-list drops live connections too, and a new agent needs
 * no change to be let in beyond its registration.
 */
import { ServiceError } from '../model/errors.js';
import { keys } from '../state/keys.js';
import { parseInstanceRecord } from '../state/records/instances.js';
import { parseStorageHostRecord } from '../state/records/efs.js';
import { parseTaskRecord } from '../state/records/tasks.js';
import { efsKeys as k } from '../state/efs-keys.js';
import type { Store } from '../store/store.js';
import { readRecord } from '../store/transact.js';
import { parseArn } from '../model/arn.js';

export const storageHostCertificateName = (hostId: string) => `berth-storage-${hostId}`;
export const agentCertificateName = (instanceId: string) => `berth-agent-${instanceId}`;

/** The certificate names every volume's bricks accept (`auth.ssl-allow`), sorted. */
export async function allowedTlsClients(store: Store): Promise<string[]> {
  const [hosts, instances] = await Promise.all([store.range(k.storageHosts()), store.range(keys.containerInstances())]);
  const names = [
    ...hosts.entries.map((e) => storageHostCertificateName(parseStorageHostRecord(e.value, e.key).id)),
    ...instances.entries.map((e) => parseInstanceRecord(e.value, e.key)).filter((i) => i.instance.status !== 'INACTIVE').map((i) => agentCertificateName(i.id)),
  ];
  return [...new Set(names)].sort();
}

/**
 * The certificate name for the agent mounting for `taskArn`: its container instance's. Refused (AccessDeniedException)
 * when the task has no instance or the instance is deregistered: a revoked agent gets no new certificate.
 */
export async function agentCertificateNameFor(store: Store, taskArn: string | undefined): Promise<string> {
  const parsed = taskArn === undefined ? undefined : parseArn(taskArn);
  const [cluster, taskId] = parsed?.resourceType === 'task' ? parsed.resource.split('/') : [];
  const task = cluster !== undefined && taskId !== undefined ? await readRecord(store, parseTaskRecord, keys.task(cluster, taskId)) : undefined;
  if (!task?.instanceId) throw new ServiceError('AccessDeniedException', `a TLS certificate is issued for a task's container instance; task ${taskArn ?? '(none given)'} has none`);
  return activeInstanceCertificateName(store, task.cluster, task.instanceId);
}

/** The certificate name for the agent of container instance `containerInstanceArn` (refused as above when deregistered). */
export async function agentCertificateNameForInstance(store: Store, containerInstanceArn: string): Promise<string> {
  const parsed = parseArn(containerInstanceArn);
  const [cluster, instanceId] = parsed?.resourceType === 'container-instance' ? parsed.resource.split('/') : [];
  if (cluster === undefined || instanceId === undefined) throw new ServiceError('AccessDeniedException', `a TLS certificate is issued for a container instance; '${containerInstanceArn}' is not a container instance ARN`);
  return activeInstanceCertificateName(store, cluster, instanceId);
}

async function activeInstanceCertificateName(store: Store, cluster: string, instanceId: string): Promise<string> {
  const instance = await readRecord(store, parseInstanceRecord, keys.containerInstance(cluster, instanceId));
  if (!instance || instance.instance.status === 'INACTIVE') {
    throw new ServiceError('AccessDeniedException', `container instance ${instanceId} is deregistered: its agent gets no TLS certificate`);
  }
  return agentCertificateName(instance.id);
}
