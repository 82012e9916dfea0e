import type { Logger } from 'pino';
import { keys } from '../state/keys.js';
import { parseInstanceRecord, type InstanceRecord } from '../state/records/instances.js';
import { FencedOffError } from '../store/fenced.js';
import type { Store, Watch, WatchEvent } from '../store/store.js';
import { transact } from '../store/transact.js';
import { WorkQueue } from './work-queue.js';

export interface InstanceMonitorOptions {
  /** The leader's fenced store. */
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  /** After a watch fails, list and watch again this long later (default 1 s). */
  readonly retryMs?: number;
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
 * Runs on the leader only. On start it lists every instance and reconciles each once (presence that changed
 * while no replica led is caught up then), then watches `presence/` and `instances/` from the listing's
 * revision; a failed watch lists and reconciles everything again. Each pass reads the instance record and its
 * presence key in one transaction, so the flag it writes matches the presence at the moment it commits.
 */
export function startInstanceMonitor(options: InstanceMonitorOptions): InstanceMonitor {
  const { store, log } = options;
  const now = options.now ?? Date.now;
  let stopped = false;
  let watches: Watch[] = [];
  let retry: NodeJS.Timeout | undefined;

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
      tx.putJson(key, {
        ...rest,
        instance: { ...current.instance, agentConnected: connected, version: (current.instance.version ?? 0) + 1 },
        ...(connected ? { lastSeenAt: now() } : { disconnectedAt: now() }),
      } satisfies InstanceRecord);
    });
  }

  const onEvents = (events: readonly WatchEvent[]) => {
    for (const e of events) {
      const key = e.type === 'put' ? e.entry.key : e.key;
      if (key.startsWith(keys.presences())) queue.add(key.slice(keys.presences().length));
      else if (key.startsWith(keys.containerInstances()) && e.type === 'put') queue.add(key.slice(keys.containerInstances().length));
    }
  };

  const listAndWatch = async () => {
    const [instances, presence] = await Promise.all([store.range(keys.containerInstances()), store.range(keys.presences())]);
    if (stopped) return;
    const onError = (err: Error) => {
      if (stopped) return;
      log.warn({ err }, 'instance monitor watch ended; listing again');
      restart();
    };
    watches = [
      store.watch(keys.containerInstances(), { fromRevision: instances.revision + 1 }, { onEvents, onError }),
      store.watch(keys.presences(), { fromRevision: presence.revision + 1 }, { onEvents, onError }),
    ];
    for (const e of instances.entries) queue.add(e.key.slice(keys.containerInstances().length));
    // A presence key whose instance record is gone is ignored by the pass; listing it costs nothing.
    for (const e of presence.entries) queue.add(e.key.slice(keys.presences().length));
  };

  const restart = () => {
    for (const w of watches.splice(0)) w.close();
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (stopped) return;
      listAndWatch().catch((err: unknown) => {
        if (err instanceof FencedOffError) return;
        log.warn({ err }, 'instance monitor could not list instances; retrying');
        restart();
      });
    }, options.retryMs ?? 1_000);
    retry.unref();
  };

  const started = listAndWatch().catch((err: unknown) => {
    log.warn({ err }, 'instance monitor could not list instances; retrying');
    restart();
  });

  return {
    async idle() {
      await started;
      await queue.idle();
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      for (const w of watches.splice(0)) w.close();
      await started;
      await queue.stop();
    },
  };
}

function splitId(id: string): [string, string] {
  const i = id.indexOf('/');
  return [id.slice(0, i), id.slice(i + 1)];
}
