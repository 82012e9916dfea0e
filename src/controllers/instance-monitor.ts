import type { Logger } from 'pino';
import { keys } from '../state/keys.js';
import { parseInstanceRecord, type InstanceRecord } from '../state/records/instances.js';
import { FencedOffError } from '../store/fenced.js';
import { parsePresenceRecord } from '../state/records/presence.js';
import { Informer } from '../store/informer.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { WorkQueue } from './work-queue.js';
import { emitContainerInstanceStateChange } from '../state/ecs-events.js';

export interface InstanceMonitorOptions {
  /** The leader's fenced store. */
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  /** The process's instances informer (ClusterCache.instances). */
  readonly instances: Informer<InstanceRecord>;
}

export interface InstanceMonitor {
  /** Resolves when no pass is queued or under way (for tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Lost-instance detection's first half (the service controller does the rest from the records): writes each
 * instance record's `agentConnected` from the agents' presence keys (`presence/<cluster>/<id>`, one per open
 * session on any replica, gone when the session closes or its replica's lease expires): `lastSeenAt` when a
 * session appears, `disconnectedAt` when the last one goes.
 *
 * Runs on the leader only. It follows `presence/` and `instances/` through informers (a broken watch re-lists
 * and reports what changed meanwhile) and reconciles every instance once on start (presence that changed
 * while no replica led is caught up then). Each pass reads the instance record and its
 * presence key in one transaction, so the flag it writes matches the presence at the moment it commits.
 */
export function startInstanceMonitor(options: InstanceMonitorOptions): InstanceMonitor {
  const { store, log } = options;
  const now = options.now ?? Date.now;
  let stopped = false;

  const queue = new WorkQueue<string>({
    workers: 2,
    process: (id) => reconcile(id),
    onError: (id, err) => {
      if (err instanceof FencedOffError) return;
      log.warn({ err, instance: id }, 'could not record agent connection state; retrying');
    },
  });

  /** `id` is `<cluster>/<instanceId>`. */
  async function reconcile(id: string): Promise<void> {
    const [cluster, instanceId] = splitId(id);
    await transact(store, async (tx) => {
      const key = keys.containerInstance(cluster, instanceId);
      const current = await tx.getRecord(parseInstanceRecord, key);
      if (!current) return;
      const present = (await tx.get(keys.presence(cluster, instanceId))) !== undefined;
      // A deregistered instance stays disconnected whatever session lingers.
      const connected = present && current.instance.status !== 'INACTIVE';
      // Only transitions are written: an instance that never connected gets no disconnectedAt.
      if ((current.instance.agentConnected === true) === connected && (!connected || current.disconnectedAt === undefined)) return;
      const { disconnectedAt: _since, ...rest } = current;
      const instance = { ...current.instance, agentConnected: connected, version: (current.instance.version ?? 0) + 1 };
      tx.putJson(key, {
        ...rest,
        instance,
        ...(connected ? { lastSeenAt: now() } : { disconnectedAt: now() }),
      } satisfies InstanceRecord);
      emitContainerInstanceStateChange(tx, instance, now());
    });
  }

  // Presence from its own informer; instances from the process's (the cluster cache's). Both re-list and
  // re-watch by themselves after any error, and tell every change they missed meanwhile.
  const presence = new Informer({ store, prefix: keys.presences(), parse: parsePresenceRecord }).start();
  const queueKey = (prefix: string) => (key: string) => queue.add(key.slice(prefix.length));
  const byPresence = queueKey(keys.presences());
  const byInstance = queueKey(keys.containerInstances());
  const unsubscribe = [
    presence.subscribe({ added: byPresence, updated: byPresence, deleted: byPresence }),
    options.instances.subscribe({ added: byInstance, updated: byInstance }),
  ];

  // Every instance once on start: presence that changed while no replica led is caught up then.
  const started = Promise.all([presence.ready(), options.instances.ready()]).then(() => {
    if (stopped) return;
    for (const key of options.instances.cache.keys()) byInstance(key);
  });

  return {
    async idle() {
      await started;
      await queue.idle();
    },
    async stop() {
      stopped = true;
      for (const u of unsubscribe) u();
      presence.stop();
      await started.catch(() => undefined);
      await queue.stop();
    },
  };
}

function splitId(id: string): [string, string] {
  const i = id.indexOf('/');
  return [id.slice(0, i), id.slice(i + 1)];
}
