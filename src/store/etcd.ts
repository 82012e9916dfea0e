import { readFileSync } from 'node:fs';
import {
  CompareResult,
  CompareTarget,
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCDeadlineExceededError,
  SortOrder,
  SortTarget,
  type IKeyValue,
  type IOptions,
  type IResponseHeader,
  type IWatchResponse,
} from 'etcd3';
import { isBrokenCircuit, isUnavailable, neverSent, passThrough, translate } from './etcd-faults.js';
import { EtcdWatch } from './etcd-watch.js';
import {
  LeaseNotFoundError,
  StoreUnavailableError,
  checkTxn,
  compareKeys,
  type Compare,
  type Entry,
  type LeaseId,
  type Op,
  type RangeOptions,
  type RangeResult,
  type Store,
  type TxnResult,
  type Watch,
  type WatchEvent,
  type WatchListener,
  type WatchOptions,
} from './store.js';

/** etcd's own default `--max-request-bytes`. */
const ETCD_DEFAULT_REQUEST_BYTES = 1_572_864;

export interface EtcdStoreOptions {
  /** Client URLs, `http://host:port` or `https://host:port`. */
  readonly endpoints: readonly string[];
  /** Client TLS: each a PEM text or the path of a PEM file. `cert` and `key` together, for client certificates. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Every key lives under this prefix in etcd, so several berth clusters (or tests) can share one. */
  readonly prefix?: string;
  /** How long one store call may take, retries included, before StoreUnavailableError. */
  readonly deadlineMs?: number;
  /** Largest key + value of one put; keep it under etcd's `--max-request-bytes` (default 1.5 MiB). */
  readonly maxValueBytes?: number;
  /** Most operations (or compares) in one txn; must not exceed etcd's `--max-txn-ops` (default 128). */
  readonly maxTxnOps?: number;
}

/** gRPC call options: an absolute deadline in ms since the epoch, shared by every retry of one call. */
type GrpcDeadline = { deadline: number };

/**
 * The Store on an etcd v3 cluster, through the etcd3 client. Reads are linearizable (etcd's default), so a
 * replica always sees every write acknowledged to any other. Keys are stored under `prefix`; revisions are
 * etcd's, global to the cluster, so they grow with writes under other prefixes too.
 *
 * Faults: a call that cannot reach etcd within `deadlineMs` fails with StoreUnavailableError. Reads retry on
 * another endpoint; a txn is retried only when it certainly never left this process (the connection was
 * refused), because a txn lost in flight may have been applied.
 */
export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly prefix: Buffer;
  /** The prefix every key of this store has in etcd. */
  readonly keyPrefix: string;
  readonly endpoints: readonly string[];
  readonly deadlineMs: number;
  private readonly maxValueBytes: number;
  private readonly maxTxnOps: number;
  /** The highest revision any response has shown: a watch "from now on" starts after it. */
  private lastSeen = 0;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  /** Connect to etcd and check that it answers; throws StoreUnavailableError naming the endpoints if not. */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.revision();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  private constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new Error('the etcd store needs at least one endpoint');
    this.endpoints = options.endpoints;
    this.keyPrefix = options.prefix ?? 'berth/';
    this.prefix = Buffer.from(this.keyPrefix);
    this.deadlineMs = options.deadlineMs ?? 5_000;
    // Under etcd's request limit by a margin for the request's own framing and the key prefix.
    this.maxValueBytes = options.maxValueBytes ?? ETCD_DEFAULT_REQUEST_BYTES - 8 * 1024;
    this.maxTxnOps = options.maxTxnOps ?? 128;
    const tls = options.tls;
    const pem = (s: string | undefined) =>
      s === undefined ? undefined : s.includes('-----BEGIN') ? Buffer.from(s) : readFileSync(s);
    const clientOptions: IOptions = {
      hosts: [...options.endpoints],
      ...(tls && {
        credentials: {
          rootCertificate: pem(tls.ca) ?? Buffer.alloc(0),
          ...(tls.key !== undefined && { privateKey: pem(tls.key) }),
          ...(tls.cert !== undefined && { certChain: pem(tls.cert) }),
        },
      }),
      // Ranges can be large; gRPC's default 4 MiB receive limit would fail them.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
      dialTimeout: this.deadlineMs,
      // Retries are this store's (see call()), so that a txn is never resent after it may have been applied.
      faultHandling: { global: passThrough },
    };
    this.client = new Etcd3(clientOptions);
  }

  async get(key: string): Promise<Entry | undefined> {
    const res = await this.read('get', (o) => this.client.kv.range({ key: this.k(key) }, o));
    const kv = res.kvs[0];
    return kv && this.toEntry(kv);
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    const { after, limit, reverse = false } = options;
    let { key, rangeEnd } = this.prefixRange(prefix);
    if (after !== undefined && !reverse && compareKeys(after, prefix) >= 0) {
      key = Buffer.concat([this.k(after), Buffer.from([0])]);
    }
    if (after !== undefined && reverse && (isOpenEnd(rangeEnd) || Buffer.compare(this.k(after), rangeEnd) < 0)) {
      rangeEnd = this.k(after);
    }
    if (!isOpenEnd(rangeEnd) && Buffer.compare(key, rangeEnd) >= 0) {
      return { entries: [], revision: await this.revision(), more: false };
    }
    if (limit === 0) {
      const n = await this.read('range', (o) => this.client.kv.range({ key, range_end: rangeEnd, count_only: true }, o));
      return { entries: [], revision: Number(n.header.revision), more: Number(n.count) > 0 };
    }
    const res = await this.read('range', (o) =>
      this.client.kv.range(
        {
          key,
          range_end: rangeEnd,
          limit: limit ?? 0,
          // Unsorted is etcd's key order and lets it stop at `limit`; any sort makes it read the whole range.
          sort_order: reverse ? SortOrder.Descend : SortOrder.None,
          sort_target: SortTarget.Key,
        },
        o,
      ),
    );
    return { entries: res.kvs.map((kv) => this.toEntry(kv)), revision: Number(res.header.revision), more: res.more };
  }

  async count(prefix: string): Promise<number> {
    const { key, rangeEnd } = this.prefixRange(prefix);
    const res = await this.read('count', (o) => this.client.kv.range({ key, range_end: rangeEnd, count_only: true }, o));
    return Number(res.count);
  }

  async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    const merged = checkTxn(
      compares,
      ops,
      { maxTxnOps: this.maxTxnOps, maxValueBytes: this.maxValueBytes },
      "etcd's --max-txn-ops and this store's maxTxnOps together",
    );
    const request = {
      compare: compares.map((c) => ({
        key: this.k(c.key),
        target: CompareTarget.Mod,
        result: CompareResult.Equal,
        mod_revision: c.modRevision,
      })),
      success: merged.map((op) =>
        op.type === 'put'
          ? { request_put: { key: this.k(op.key), value: Buffer.from(op.value), lease: op.lease ?? 0 } }
          : { request_delete_range: { key: this.k(op.key) } },
      ),
      failure: [],
    };
    try {
      const res = await this.call('txn', (o) => this.client.kv.txn(request, o), false);
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    } catch (error) {
      if (error instanceof EtcdLeaseInvalidError) {
        const leased = merged.find((op) => op.type === 'put' && op.lease !== undefined);
        throw new LeaseNotFoundError(leased?.type === 'put' ? leased.lease! : '?');
      }
      throw error;
    }
  }

  watch(prefix: string, options: WatchOptions, listener: WatchListener): Watch {
    this.assertOpen();
    const { key, rangeEnd } = this.prefixRange(prefix);
    const watch = new EtcdWatch(
      {
        openStream: () => this.client.watchClient.watch(),
        toEvents: (res) => this.toEvents(res),
        unavailable: (cause) => this.unavailable('watch', cause),
        deadlineMs: this.deadlineMs,
      },
      { key, rangeEnd },
      options.fromRevision ?? this.lastSeen + 1,
      {
        onEvents: (events) => listener.onEvents(events),
        onError: (error) => {
          this.watches.delete(watch);
          listener.onError(error);
        },
      },
    );
    this.watches.add(watch);
    return {
      close: () => {
        this.watches.delete(watch);
        watch.close();
      },
    };
  }

  async revision(): Promise<number> {
    // A linearizable read of one key: O(1), and its header carries the cluster's current revision.
    const res = await this.read('revision', (o) => this.client.kv.range({ key: this.prefix }, o));
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    // The Store drops history at or below `revision`; etcd keeps its compaction revision itself watchable.
    // etcd cannot compact past its current revision.
    const current = await this.revision();
    const target = Math.min(revision + 1, current);
    try {
      await this.call('compact', (o) => this.client.kv.compact({ revision: target }, o), true);
    } catch (error) {
      if (!/required revision has been compacted/.test(String(error))) throw error;
    }
  }

  async grantLease(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }> {
    if (!(ttlMs > 0)) throw new RangeError(`a lease TTL must be positive, not ${ttlMs}`);
    // etcd counts whole seconds and refuses TTLs under its minimum (about 1.5 × the election timeout).
    const ttl = Math.max(2, Math.ceil(ttlMs / 1_000));
    const res = await this.call('grantLease', (o) => this.client.leaseClient.leaseGrant({ TTL: ttl, ID: 0 }, o), false);
    return { id: res.ID, ttlMs: Number(res.TTL) * 1_000 };
  }

  async keepAliveLease(id: LeaseId): Promise<number> {
    const res = await this.call('keepAliveLease', () => this.keepAliveOnce(id), true);
    // etcd answers a keepalive of an ended lease with TTL 0 rather than an error.
    if (Number(res.TTL) <= 0) throw new LeaseNotFoundError(id);
    return Number(res.TTL) * 1_000;
  }

  async revokeLease(id: LeaseId): Promise<void> {
    try {
      await this.call('revokeLease', (o) => this.client.leaseClient.leaseRevoke({ ID: id }, o), false);
    } catch (error) {
      if (error instanceof EtcdLeaseInvalidError) throw new LeaseNotFoundError(id);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches) w.fail(new Error('store closed'));
    this.watches.clear();
    this.client.close();
  }

  /** One keepalive on its own stream, answered or failed within the deadline. */
  private async keepAliveOnce(id: LeaseId): Promise<{ TTL: string; header: IResponseHeader }> {
    const stream = await this.client.leaseClient.leaseKeepAlive();
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new GRPCDeadlineExceededError('keepalive not answered in time')),
          this.deadlineMs,
        );
        stream.on('data', (res: { TTL: string; header: IResponseHeader }) => {
          clearTimeout(timer);
          resolve(res);
        });
        stream.on('error', (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
        stream.write({ ID: id });
      });
    } finally {
      stream.on('error', () => {});
      stream.cancel();
    }
  }

  private read<T extends { header: IResponseHeader }>(what: string, fn: (o: GrpcDeadline) => Promise<T>): Promise<T> {
    return this.call(what, fn, true);
  }

  /**
   * Run one etcd call under the store's deadline, retrying unreachable endpoints: any failure when
   * `idempotent`, otherwise only failures where the request was never sent.
   */
  private async call<T extends { header: IResponseHeader }>(
    what: string,
    fn: (o: GrpcDeadline) => Promise<T>,
    idempotent: boolean,
  ): Promise<T> {
    this.assertOpen();
    const deadline = Date.now() + this.deadlineMs;
    // The first failure that says what went wrong: once etcd3's circuit breaker opens, later attempts only
    // say that it is open, which would hide a refused TLS handshake or a refused connection.
    let telling: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fn({ deadline });
        this.lastSeen = Math.max(this.lastSeen, Number(res.header.revision));
        return res;
      } catch (error) {
        if (this.closed) throw new Error('store is closed', { cause: error });
        if (!isUnavailable(error)) throw translate(error);
        if (telling === undefined && !isBrokenCircuit(error)) telling = error;
        const unsent = neverSent(error);
        const left = deadline - Date.now();
        if (left <= 0 || attempt > this.endpoints.length + 2 || !(idempotent || unsent)) {
          throw this.unavailable(what, telling ?? error, !idempotent && !unsent);
        }
        await new Promise((r) => setTimeout(r, Math.min(left, 25 * 2 ** attempt)));
      }
    }
  }

  private unavailable(what: string, cause: unknown, maybeCommitted = false): StoreUnavailableError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new StoreUnavailableError(
      `etcd at ${this.endpoints.join(', ')} did not answer ${what} (${reason})`,
      { cause, maybeCommitted },
    );
  }

  private k(key: string): Buffer {
    return Buffer.concat([this.prefix, Buffer.from(key)]);
  }

  /** The etcd range holding every key under `prefix` (within this store's own prefix). */
  private prefixRange(prefix: string): { key: Buffer; rangeEnd: Buffer } {
    const key = this.k(prefix);
    return { key, rangeEnd: bytePrefixEnd(key) };
  }

  private toEntry(kv: IKeyValue): Entry {
    return {
      key: kv.key.subarray(this.prefix.length).toString(),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      version: Number(kv.version),
      ...(kv.lease !== '0' && kv.lease !== '' && { lease: kv.lease }),
    };
  }

  private toEvents(res: IWatchResponse): WatchEvent[] {
    return res.events.map((e) =>
      e.type === 'Put'
        ? { type: 'put', entry: this.toEntry(e.kv) }
        : { type: 'delete', key: this.toEntry(e.kv).key, modRevision: Number(e.kv.mod_revision) },
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}

/** The end of the byte range of keys starting with `key`; `[0]` means "to the end of the keyspace". */
function bytePrefixEnd(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

const isOpenEnd = (end: Buffer) => end.length === 1 && end[0] === 0;
