import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { BlobRecords } from './blob-records.js';
import { BlobStore } from './blob-store.js';
import { GarbageCollector } from './gc.js';
import { LifecycleRunner } from './lifecycle.js';
import { Manifests } from './manifests.js';
import { every, type Schedule } from './schedule.js';
import { TokenAuthority } from './tokens.js';
import { Uploads } from './uploads.js';

export interface RegistryOptions {
  readonly store: Store;
  /**
   * Where blob bytes live (`blobs/`, `uploads/`). Several servers on one Store may share it (a network
   * filesystem; docs/registry.md says what it must guarantee).
   */
  readonly dir: string;
  readonly log: Logger;
  readonly now?: () => number;
  /** How often garbage collection runs. Default: hourly. */
  readonly gcIntervalMs?: number;
  /** How long an unreferenced blob stays condemned before deletion. Default: one hour. */
  readonly gcGraceMs?: number;
  /** How often lifecycle policies are applied. Default: hourly. */
  readonly lifecycleIntervalMs?: number;
  /** How long an upload may sit idle before it is discarded. Default: one hour. */
  readonly uploadIdleMs?: number;
}

const HOUR = 60 * 60 * 1000;

/** The registry's parts, shared by the OCI routes and the ECR API. */
export interface Registry {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly records: BlobRecords;
  readonly uploads: Uploads;
  readonly manifests: Manifests;
  readonly tokens: TokenAuthority;
  readonly gc: GarbageCollector;
  readonly lifecycle: LifecycleRunner;
  readonly now: () => number;
  /**
   * Start garbage collection and lifecycle policies on their schedules, writing through `store` (default the
   * registry's own; with several replicas, the leader's fenced store, so that only the leader deletes).
   */
  start(store?: Store): void;
  /** Stop the schedules and wait for a run in progress (start may be called again afterwards). */
  stop(): Promise<void>;
}

export async function openRegistry(options: RegistryOptions): Promise<Registry> {
  const { store, log } = options;
  const now = options.now ?? Date.now;
  const blobs = new BlobStore(options.dir);
  const records = new BlobRecords(store, now);
  // No clean-up of temporary files at start: other servers may be using the directory. The sweep does it.
  const uploads = new Uploads({ store, blobs, records, now });
  const manifests = new Manifests(store, blobs, records, now);
  const tokens = await TokenAuthority.open(store, now);
  const collector = (on: Store) =>
    new GarbageCollector(on, blobs, {
      graceMs: options.gcGraceMs ?? HOUR,
      uploadIdleMs: options.uploadIdleMs ?? HOUR,
      now,
      log: log.child({ task: 'registry-gc' }),
    });
  const runner = (on: Store) => new LifecycleRunner(on, manifests, now, log.child({ task: 'registry-lifecycle' }));
  const gc = collector(store);
  const lifecycle = runner(store);
  const schedules: Schedule[] = [];
  return {
    store,
    blobs,
    records,
    uploads,
    manifests,
    tokens,
    gc,
    lifecycle,
    now,
    start(on = store) {
      const [g, l] = on === store ? [gc, lifecycle] : [collector(on), runner(on)];
      schedules.push(every(options.gcIntervalMs ?? HOUR, () => g.collect(), log, 'registry garbage collection'));
      schedules.push(every(options.lifecycleIntervalMs ?? HOUR, () => l.applyAll(), log, 'registry lifecycle policies'));
    },
    async stop() {
      await Promise.all(schedules.splice(0).map((s) => s.stop()));
    },
  };
}
