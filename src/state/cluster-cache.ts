import { FARGATE_POOL_ATTRIBUTE } from '../model/fargate-pool.js';
import type { InstanceSnapshot } from '../scheduler/index.js';
import { Informer, InformerStoppedError, InformerTimeoutError, type Cached, type InformerClock, type InformerFailure } from '../store/informer.js';
import { ReadBarrier } from '../store/read-barrier.js';
import { compareKeys, StoreUnavailableError, type Store } from '../store/store.js';
import { snapshotOf } from './cluster-snapshot.js';
import { keys } from './keys.js';
import { parseClusterRecord, type ClusterRecord } from './records/clusters.js';
import { parseInstanceRecord, type InstanceRecord } from './records/instances.js';
import { parseTaskRecord, type TaskRecord } from './records/tasks.js';

export interface ClusterCacheOptions {
  readonly store: Store;
  readonly onError?: (error: unknown, failure: InformerFailure) => void;
  readonly clock?: InformerClock;
}

/** One cluster's indexes, kept up to date by the informers' change handlers. */
interface ClusterIndex {
  readonly instances: Map<string, InstanceRecord>;
  /** Instance id → its tasks that have not stopped (task id → group). */
  readonly liveTasks: Map<string, Map<string, string>>;
  /** Service name → its tasks (any status), by task id. */
  readonly serviceTasks: Map<string, Map<string, Cached<TaskRecord>>>;
  /** Memoised placement views, dropped when the instance or its live tasks change. */
  readonly snapshots: Map<string, InstanceSnapshot>;
  /** Instance ids in key order, dropped when one is added or removed. */
  order?: string[];
  /** The whole cluster's view, dropped on any change in the cluster. */
  all?: readonly InstanceSnapshot[];
  /** `all` split into EC2 container instances and Fargate pool hosts; dropped with it. */
  pools?: { readonly ec2: readonly InstanceSnapshot[]; readonly fargate: readonly InstanceSnapshot[] };
}

/** How a task counts in the indexes. */
interface TaskPlace {
  readonly cluster: string;
  readonly id: string;
  readonly live?: { readonly instanceId: string; readonly group: string };
  readonly serviceName?: string;
}

function placeOf(t: TaskRecord): TaskPlace {
  return {
    cluster: t.cluster,
    id: t.id,
    ...(t.instanceId && t.task.lastStatus !== 'STOPPED' ? { live: { instanceId: t.instanceId, group: t.task.group ?? '' } } : {}),
    ...(t.serviceName !== undefined ? { serviceName: t.serviceName } : {}),
  };
}

/**
 * The control plane's one view of where tasks are, per process: informers on `instances/` and `tasks/`
 * with indexes kept as they change — each cluster's instances as placement sees them
 * ({@link ClusterCache.snapshot}, what `cluster-snapshot.ts` used to build by reading every instance and
 * task of the cluster per call) and each service's tasks. RunTask's placement, ListContainerInstances'
 * filter and the service controller's passes read it; the agent gateway hears task changes through
 * {@link ClusterCache.tasks}.
 *
 * Nothing's correctness rests on it being fresh: a launch re-reads and re-checks each chosen instance in its
 * transaction (`task-launch.ts`), and the controller's commit compares the records its plan relied on.
 * Callers that must see everything written before they started (RunTask after an instance registered
 * through another replica; a controller pass after its own last commit) first {@link ClusterCache.catchUp}.
 */
export class ClusterCache {
  readonly instances: Informer<InstanceRecord>;
  readonly tasks: Informer<TaskRecord>;
  /** Cluster records, for reads that check a cluster from the cache (DescribeTasks). */
  readonly clusterRecords: Informer<ClusterRecord>;
  private readonly clusters = new Map<string, ClusterIndex>();
  /** One store revision read shared by the callers of catchUp() that arrive together. */
  private readonly barrier: ReadBarrier;
  private readonly empty: readonly InstanceSnapshot[] = [];

  constructor(private readonly options: ClusterCacheOptions) {
    const common = {
      store: options.store,
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    };
    this.instances = new Informer({ ...common, prefix: keys.containerInstances(), parse: parseInstanceRecord });
    this.tasks = new Informer({ ...common, prefix: keys.tasks(), parse: parseTaskRecord });
    this.clusterRecords = new Informer({ ...common, prefix: keys.clusters(), parse: parseClusterRecord });
    this.barrier = new ReadBarrier(() => options.store.revision());
    this.instances.subscribe({
      added: (_k, r) => this.instanceChanged(undefined, r),
      updated: (_k, old, r) => this.instanceChanged(old, r),
      deleted: (_k, old) => this.instanceChanged(old, undefined),
    });
    this.tasks.subscribe({
      added: (k, t) => this.taskChanged(undefined, t, k),
      updated: (k, old, t) => this.taskChanged(old, t, k),
      deleted: (k, old) => this.taskChanged(old, undefined, k),
    });
  }

  start(): this {
    this.instances.start();
    this.tasks.start();
    this.clusterRecords.start();
    return this;
  }

  stop(): void {
    this.instances.stop();
    this.tasks.stop();
    this.clusterRecords.stop();
  }

  /** Resolves after the informers' first complete list. */
  async ready(): Promise<void> {
    await Promise.all([this.instances.ready(), this.tasks.ready(), this.clusterRecords.ready()]);
  }

  /** Resolves once the caches reflect at least `revision`. */
  async waitFor(revision: number, options: { timeoutMs?: number } = {}): Promise<void> {
    await Promise.all([
      this.instances.waitFor(revision, options),
      this.tasks.waitFor(revision, options),
      this.clusterRecords.waitFor(revision, options),
    ]);
  }

  /** A task record as the cache holds it (after {@link catchUp}: as the store held it when the call began). */
  task(cluster: string, id: string): TaskRecord | undefined {
    return this.tasks.cache.get(keys.task(cluster, id))?.value;
  }

  /** A cluster record as the cache holds it. */
  cluster(name: string): ClusterRecord | undefined {
    return this.clusterRecords.cache.get(keys.cluster(name))?.value;
  }

  /**
   * Resolves once the cache reflects everything committed before the call (default timeout 10 s): a
   * linearizable read from the cache. Concurrent callers share one revision read (see ReadBarrier), so on
   * etcd a burst of reads costs one round trip, not one per record.
   */
  async catchUp(options: { timeoutMs?: number } = {}): Promise<void> {
    const revision = await this.barrier.revision();
    try {
      await this.waitFor(revision, { timeoutMs: options.timeoutMs ?? 10_000 });
    } catch (error) {
      // A cache that cannot catch up (its informers still backing off after an outage, or stopping) is the
      // store being unavailable to this call, as far as its caller can tell: 503, retry later.
      if (error instanceof InformerTimeoutError || error instanceof InformerStoppedError) {
        throw new StoreUnavailableError(`this replica's view of the store is behind: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * The cluster's container instances (`ec2`, the default) or its Fargate pool hosts (`fargate`) as placement
   * sees them (INACTIVE ones included, as the store holds them), in key order. The two never overlap: an EC2
   * task is never placed on a pool host, nor a Fargate task on a container instance.
   */
  snapshot(cluster: string, pool: 'ec2' | 'fargate' = 'ec2'): readonly InstanceSnapshot[] {
    const index = this.clusters.get(cluster);
    if (!index) return this.empty;
    const all = this.allOf(index);
    index.pools ??= {
      ec2: all.filter((s) => !s.attributes.has(FARGATE_POOL_ATTRIBUTE)),
      fargate: all.filter((s) => s.attributes.has(FARGATE_POOL_ATTRIBUTE)),
    };
    return index.pools[pool];
  }

  private allOf(index: ClusterIndex): readonly InstanceSnapshot[] {
    if (index.all) return index.all;
    index.order ??= [...index.instances.keys()].sort(compareKeys);
    index.all = index.order.map((id) => {
      let s = index.snapshots.get(id);
      if (!s) {
        const live = index.liveTasks.get(id);
        s = snapshotOf(index.instances.get(id)!, live ? [...live].map(([taskId, group]) => ({ taskId, group })) : []);
        index.snapshots.set(id, s);
      }
      return s;
    });
    return index.all;
  }

  /** Ids of the instance's tasks that have not stopped. */
  liveTaskIds(cluster: string, instanceId: string): string[] {
    return [...(this.clusters.get(cluster)?.liveTasks.get(instanceId)?.keys() ?? [])];
  }

  /** The cluster's instance records by id. */
  instanceRecords(cluster: string): ReadonlyMap<string, InstanceRecord> {
    return this.clusters.get(cluster)?.instances ?? new Map();
  }

  /** A service's tasks (any status) with the revision each was read at. */
  serviceTasks(cluster: string, serviceName: string): readonly Cached<TaskRecord>[] {
    const tasks = this.clusters.get(cluster)?.serviceTasks.get(serviceName);
    return tasks ? [...tasks.values()] : [];
  }

  private index(cluster: string): ClusterIndex {
    let index = this.clusters.get(cluster);
    if (!index) {
      index = { instances: new Map(), liveTasks: new Map(), serviceTasks: new Map(), snapshots: new Map() };
      this.clusters.set(cluster, index);
    }
    return index;
  }

  private instanceChanged(old: InstanceRecord | undefined, next: InstanceRecord | undefined): void {
    const r = (next ?? old)!;
    const index = this.index(r.cluster);
    if (next) index.instances.set(next.id, next);
    else index.instances.delete(r.id);
    if (!old || !next) index.order = undefined;
    index.snapshots.delete(r.id);
    index.all = undefined;
    index.pools = undefined;
  }

  private taskChanged(old: TaskRecord | undefined, next: TaskRecord | undefined, key: string): void {
    const before = old ? placeOf(old) : undefined;
    const after = next ? placeOf(next) : undefined;
    const index = this.index((after ?? before)!.cluster);
    const id = (after ?? before)!.id;
    if (before?.live?.instanceId !== after?.live?.instanceId || before?.live?.group !== after?.live?.group) {
      if (before?.live) {
        const tasks = index.liveTasks.get(before.live.instanceId);
        tasks?.delete(id);
        if (tasks?.size === 0) index.liveTasks.delete(before.live.instanceId);
        index.snapshots.delete(before.live.instanceId);
      }
      if (after?.live) {
        let tasks = index.liveTasks.get(after.live.instanceId);
        if (!tasks) index.liveTasks.set(after.live.instanceId, (tasks = new Map()));
        tasks.set(id, after.live.group);
        index.snapshots.delete(after.live.instanceId);
      }
      index.all = undefined;
      index.pools = undefined;
    }
    if (before?.serviceName !== undefined && before.serviceName !== after?.serviceName) {
      const tasks = index.serviceTasks.get(before.serviceName);
      tasks?.delete(id);
      if (tasks?.size === 0) index.serviceTasks.delete(before.serviceName);
    }
    if (after?.serviceName !== undefined) {
      let tasks = index.serviceTasks.get(after.serviceName);
      if (!tasks) index.serviceTasks.set(after.serviceName, (tasks = new Map()));
      tasks.set(id, this.tasks.entry(key)!);
    }
  }
}
