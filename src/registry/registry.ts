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
  /** Start garbage collection and lifecycle policies on their schedules. */
  start(): void;
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
  const gc = new GarbageCollector(store, blobs, {
    graceMs: options.gcGraceMs ?? HOUR,
    uploadIdleMs: options.uploadIdleMs ?? HOUR,
    now,
    log: log.child({ task: 'registry-gc' }),
  });
  const lifecycle = new LifecycleRunner(store, manifests, now, log.child({ task: 'registry-lifecycle' }));
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
    start() {
      schedules.push(every(options.gcIntervalMs ?? HOUR, () => gc.collect(), log, 'registry garbage collection'));
      schedules.push(every(options.lifecycleIntervalMs ?? HOUR, () => lifecycle.applyAll(), log, 'registry lifecycle policies'));
    },
    async stop() {
      await Promise.all(schedules.splice(0).map((s) => s.stop()));
    },
  };
}
