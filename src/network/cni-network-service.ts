/**
 * NetworkService on the standard CNI plugins. Every attachment follows the same path, and each step is
 * recorded first so that any crash leaves something `detach` can finish:
 *
 *   record written ──▶ namespace created ──▶ ADD lo ∥ ADD eth0 chain ──▶ results (and host ports)
 *   recorded ──▶ host ports published (one nft call, nft-port-map.ts)                        (attach)
 *   host ports withdrawn ──▶ DEL eth0 chain (reverse, cached result) ──▶ namespace deleted ──▶
 *   record removed                                                                          (detach)
 *
 * A failed attach is undone at once (CNI's rule: DEL after a failed ADD). Loopback is its own network,
 * run beside the bridge chain rather than before it, and gets no DEL: it holds nothing outside the
 * namespace, which is deleted anyway.
 *
 * Warm attachments (`warmPool`): a few bridge attachments without ports, made ahead by the same path
 * under ids `pool-<hex>` (warm-pool.ts keeps them filled). A bridge attach takes one when it can,
 * instead of making its own, and only names and publishes it:
 *
 *   record written (pooledFrom: the pool id) ──▶ namespace aliased berth-<id> ──▶
 *   pool record removed ∥ host ports published                                          (claim)
 *
 * Its detach is an ordinary one, with the pool id as CNI container id and the pool's namespace. A crash
 * mid-claim leaves both records: the task's wins (its detach removes the pool's), and the pool's is
 * dropped when a new process adopts the pool's records (complete ones with their namespace stay warm,
 * others are detached). list() never shows pool records: they belong to no task.
 */
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { checkAttachRequest } from './attach-request.js';
import { AttachmentStore, type AttachmentRecord, type NetworkRecord } from './attachment-store.js';
import { addNetwork, delNetwork } from './cni-chain.js';
import { pluginExec, type PluginExec } from './cni-exec.js';
import { CONTAINER_ID_PATTERN, sandboxAddress, type InvocationTarget } from './cni-protocol.js';
import { NetworkError } from './errors.js';
import { ensureMasquerade, type Iptables } from './masquerade.js';
import { addPorts, ensurePortMapTable, nftThrough, removePorts, type Nft } from './nft-port-map.js';
import { directSpawn, type SpawnFn } from '../process/spawn-helper.js';
import { aliasNetns, createNetns, deleteNetns, netnsPath } from './netns.js';
import { nodeTimers, WarmPool, type WarmPoolSettings } from './warm-pool.js';
import { bridgeNetworkConfig, bridgeNetworkOptions, loopbackNetworkConfig, type BridgeNetwork, type BridgeNetworkOptions } from './network-configs.js';
import type { AttachHooks, AttachRequest, Attachment, NetworkService, PortMapping } from './network.js';

/** Where berth keeps its state and finds the plugins, and which bridge network it runs. */
export interface CniNetworkOptions {
  /**
   * berth's own directory for attachment records and host-local's address leases. Keep it on persistent
   * storage: after a reboot, detaching the recorded attachments is what releases their leases.
   */
  readonly stateDir: string;
  /** Where the plugin binaries are (CNI_PATH). Default: Debian's /usr/lib/cni. */
  readonly pluginDirs?: readonly string[];
  readonly bridge?: BridgeNetworkOptions;
  /** Namespaces are named `<prefix><id>`. Default `berth-`. */
  readonly netnsPrefix?: string;
  /** A plugin still running after this long is killed and its step fails. Default 60 s. */
  readonly pluginTimeoutMs?: number;
  /** How plugin binaries are run. Default: spawned directly (cni-exec.ts); a wrapper may time or log them. */
  readonly pluginExec?: PluginExec;
  /** How iptables is run for the bridge's masquerade rule. Default: the host's `iptables -w`. */
  readonly iptables?: Iptables;
  /** How nft is run for published ports. Default: the host's `nft -f -`. */
  readonly nft?: Nft;
  /**
   * How plugins, `ip netns` and nft are started: Node's spawn by default; the agent passes its spawn
   * helper's (src/process/spawn-helper.ts), so that these forks do not block its event loop.
   */
  readonly spawn?: SpawnFn;
  /** Warm bridge attachments kept ready (see the top of this file); none by default. Filled from startWarmPool(). */
  readonly warmPool?: WarmPoolSettings;
}

/** Ids of warm attachments: a task's (runtime ids, task ids) never starts so. */
const POOL_PREFIX = 'pool-';
const isPoolId = (id: string) => id.startsWith(POOL_PREFIX);
const exists = (path: string) => access(path).then(() => true, () => false);

const BRIDGE_IFNAME = 'eth0';

/**
 * NetworkService on the standard CNI plugins. One instance per agent; several may share a host when each
 * has its own state dir and bridge network (tests, simulated hosts).
 */
export class CniNetworkService implements NetworkService {
  /** The bridge network settings in force (defaults filled in). */
  readonly bridge: BridgeNetwork;
  private readonly records: AttachmentStore;
  private readonly ipamDataDir: string;
  private readonly exec: PluginExec;
  private readonly netnsPrefix: string;
  /** Per-id queue: attach and detach of one id never interleave within this process. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly iptables: Iptables | undefined;
  /** The bridge's masquerade rule, ensured once per process before the first address is handed out. */
  private masquerading: Promise<void> | undefined;
  private readonly nft: Nft | undefined;
  private readonly spawn: SpawnFn;
  private portMapping: Promise<void> | undefined;
  private readonly pool: WarmPool<AttachmentRecord> | undefined;
  private poolErrors: (what: string, error: unknown) => void = () => {};

  constructor(options: CniNetworkOptions) {
    this.bridge = bridgeNetworkOptions(options.bridge);
    const stateDir = resolve(options.stateDir);
    this.records = new AttachmentStore(join(stateDir, 'attachments'));
    this.ipamDataDir = join(stateDir, 'ipam');
    this.netnsPrefix = options.netnsPrefix ?? 'berth-';
    if (!/^[A-Za-z0-9_.-]{0,50}$/.test(this.netnsPrefix)) {
      throw new NetworkError('invalid-request', `namespace prefix "${this.netnsPrefix}" must be at most 50 letters, digits, "_", "." or "-"`);
    }
    this.exec =
      options.pluginExec ??
      pluginExec({ pluginDirs: options.pluginDirs ?? ['/usr/lib/cni'], timeoutMs: options.pluginTimeoutMs ?? 60_000, ...(options.spawn ? { spawn: options.spawn } : {}) });
    this.iptables = options.iptables;
    this.nft = options.nft ?? (options.spawn ? nftThrough(options.spawn) : undefined);
    this.spawn = options.spawn ?? directSpawn;
    const warm = options.warmPool;
    if (warm && warm.size > 0) {
      this.pool = new WarmPool<AttachmentRecord>({
        size: warm.size,
        make: () => this.exclusiveAttach({ id: `${POOL_PREFIX}${randomBytes(6).toString('hex')}`, mode: 'bridge', portMappings: [] }, {}),
        destroy: (entry) => this.detach(entry.id),
        adopt: () => this.adoptPool(),
        timers: warm.timers ?? nodeTimers,
        refillDelayMs: warm.refillDelayMs ?? 1_000,
        retryDelayMs: warm.retryDelayMs ?? 1_000,
        onError: (what, error) => this.poolErrors(what, error),
      });
    }
  }

  /**
   * Adopt the warm attachments a previous process left (dropping the pool records of ones it handed out,
   * detaching half-made ones) and keep the pool filled from now on. `onError` hears of failures (the pool
   * carries on). Resolves once adopted.
   */
  startWarmPool(onError: (what: string, error: unknown) => void = () => {}): Promise<void> {
    this.poolErrors = onError;
    return this.pool?.start() ?? Promise.resolve();
  }

  /** Detach every warm attachment (those handed out are their tasks'); for a clean stop. */
  async close(): Promise<void> {
    await this.pool?.drain();
  }

  /** Warm attachments ready now. */
  get warmCount(): number {
    return this.pool?.readyCount ?? 0;
  }

  attach(request: AttachRequest, hooks: AttachHooks = {}): Promise<Attachment> {
    try {
      checkAttachRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.exclusiveAttach(request, hooks).then(attachmentOf);
  }

  private exclusiveAttach(request: AttachRequest, hooks: AttachHooks): Promise<AttachmentRecord> {
    return this.exclusive(request.id, async () => {
      if (await this.records.read(request.id)) {
        throw new NetworkError('already-attached', `attachment ${request.id} already exists (perhaps half made before a crash); detach it first`);
      }
      // (A pool entry in the making must not take another.)
      const warm = request.mode === 'bridge' && !isPoolId(request.id) ? this.pool?.take() : undefined;
      return warm ? this.claim(warm, request, hooks) : this.attachNow(request, hooks);
    });
  }

  detach(id: string): Promise<void> {
    return this.withId(id, async () => {
      const record = await this.records.read(id);
      if (record) await this.undo(record);
    });
  }

  async list(): Promise<string[]> {
    return (await this.records.ids()).filter((id) => !isPoolId(id));
  }

  private async attachNow(request: AttachRequest, hooks: AttachHooks): Promise<AttachmentRecord> {
    const { id, mode, portMappings } = request;
    const netnsName = `${this.netnsPrefix}${id}`;
    const networks: NetworkRecord[] = [
      { ifName: 'lo', config: loopbackNetworkConfig(this.bridge.name), runtimeConfig: {}, delOnDetach: false },
    ];
    if (mode !== 'none') {
      networks.push({
        ifName: BRIDGE_IFNAME,
        config: bridgeNetworkConfig(this.bridge, this.ipamDataDir),
        runtimeConfig: {},
        delOnDetach: true,
      });
    }
    let record: AttachmentRecord = { version: 1, id, mode, netnsName, netnsPath: netnsPath(netnsName), networks };
    // Only host-local's leases (bridge, awsvpc) outlive a reboot; the namespace and iptables rules do not.
    // So only then must the record survive power loss too, to release them. The result needs no fsync:
    // DEL without it still releases the lease.
    await this.records.write(record, mode !== 'none');
    try {
      await createNetns(netnsName, this.spawn);
    } catch (error) {
      // Nothing was made; and a namespace of that name that already existed is not ours to delete.
      await this.records.remove(id);
      throw error;
    }
    hooks.onNamespace?.(record.netnsPath);
    try {
      // Settle every ADD before judging, so that a rollback never races a plugin still running.
      const masquerade = Promise.allSettled([mode === 'none' ? undefined : this.masquerade()]);
      const outcomes = await Promise.allSettled(networks.map((n) => addNetwork(this.exec, n.config, this.target(record, n), n.runtimeConfig)));
      record = {
        ...record,
        networks: networks.map((n, i) => {
          const outcome = outcomes[i]!;
          return outcome.status === 'fulfilled' ? { ...n, result: outcome.value } : n;
        }),
      };
      const failed = [...outcomes, ...(await masquerade)].find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      record = withHostPorts(record, portMappings);
      // Recorded before the ports are published, so that a crash in between leaves them to detach.
      await this.records.write(record, false);
      await this.publish(record);
    } catch (error) {
      throw await this.rollback(record, error);
    }
    return record;
  }

  /** Hand the warm attachment `warm` to `request`: name its namespace after it, publish its ports. */
  private async claim(warm: AttachmentRecord, request: AttachRequest, hooks: AttachHooks): Promise<AttachmentRecord> {
    const netnsName = `${this.netnsPrefix}${request.id}`;
    let record: AttachmentRecord = {
      ...warm,
      id: request.id,
      mode: request.mode,
      netnsName,
      netnsPath: netnsPath(netnsName),
      pooledFrom: { id: warm.id, netnsName: warm.netnsName },
    };
    try {
      record = withHostPorts(record, request.portMappings);
    } catch (error) {
      await this.detach(warm.id);
      throw error;
    }
    // Saved before the alias (a crash leaves it to undo); its fsync waits until the namespace is handed over.
    await this.records.write(record, false);
    try {
      await aliasNetns(warm.netnsName, netnsName);
    } catch (error) {
      // A namespace of that name that already existed is not ours: only the pool's entry goes.
      await this.records.remove(record.id);
      await this.detach(warm.id);
      throw error;
    }
    hooks.onNamespace?.(record.netnsPath);
    try {
      // Durable before the pool's record goes: from then on this record, not the pool's, is what releases the
      // lease after a reboot (until then the pool's does, a reboot having taken the namespace with it). The fsync
      // (~7 ms here) runs beside the runtime's create rather than before it. The masquerade rule too: an adopted
      // attachment was made by another process.
      await Promise.all([this.records.write(record, true).then(() => this.records.remove(warm.id)), this.publish(record), this.masquerade()]);
    } catch (error) {
      throw await this.rollback(record, error);
    }
    return record;
  }

  /** Publish the record's host ports, if it has any. */
  private async publish(record: AttachmentRecord): Promise<void> {
    if (!record.hostPorts) return;
    await this.portMapReady();
    await addPorts(this.bridge, record.hostPorts.address, record.hostPorts.mappings, this.nft);
  }

  /**
   * The warm attachments a previous process left ready, checked: a pool record whose attachment was
   * handed out (another record names it in pooledFrom) is dropped; one half made, or whose namespace is
   * gone (a reboot), is detached; the rest are adopted.
   */
  private async adoptPool(): Promise<AttachmentRecord[]> {
    const all = await this.records.ids();
    const claimed = new Set<string>();
    for (const id of all.filter((i) => !isPoolId(i))) {
      const from = (await this.records.read(id).catch(() => undefined))?.pooledFrom?.id;
      if (from) claimed.add(from);
    }
    const adopted: AttachmentRecord[] = [];
    for (const id of all.filter(isPoolId)) {
      await this.withId(id, async () => {
        const record = await this.records.read(id);
        if (!record) return;
        if (claimed.has(id)) await this.records.remove(id);
        else if (record.networks.every((n) => n.result) && (await exists(record.netnsPath))) adopted.push(record);
        else await this.undo(record);
      });
    }
    return adopted;
  }

  private masquerade(): Promise<void> {
    this.masquerading ??= ensureMasquerade(this.bridge, this.iptables).catch((error: unknown) => {
      this.masquerading = undefined;
      throw error;
    });
    return this.masquerading;
  }

  /** The bridge's port map table, made once per process (after the bridge exists: it sets route_localnet on it). */
  private portMapReady(): Promise<void> {
    this.portMapping ??= ensurePortMapTable(this.bridge, this.nft).catch((error: unknown) => {
      this.portMapping = undefined;
      throw error;
    });
    return this.portMapping;
  }

  /** Undo a failed attach; returns the error to throw (the attach's, noting a failed clean-up). */
  private async rollback(record: AttachmentRecord, error: unknown): Promise<unknown> {
    try {
      await this.undo(record);
      return error;
    } catch (cleanup) {
      const code = error instanceof NetworkError ? error.code : 'plugin-failed';
      return new NetworkError(
        code,
        `${(error as Error).message}; undoing the attach then failed too (${(cleanup as Error).message}), so ${record.id} stays listed for a later detach`,
        { cause: error },
      );
    }
  }

  /** DEL what has host-side state, then delete the namespace, then forget the record, each step idempotent. */
  private async undo(record: AttachmentRecord): Promise<void> {
    // Ports first, and nothing else unless they are withdrawn: DEL gives the address back, and a map
    // still forwarding to it would hand the next task that gets it this one's traffic.
    if (record.hostPorts) await removePorts(this.bridge, record.hostPorts.address, record.hostPorts.mappings, this.nft);
    let first: unknown;
    for (const n of [...record.networks].reverse()) {
      if (!n.delOnDetach) continue;
      try {
        await delNetwork(this.exec, n.config, this.target(record, n), n.runtimeConfig, n.result);
      } catch (error) {
        first ??= error;
      }
    }
    // Keep the namespace until DEL succeeded: the bridge plugin finds the address whose NAT rules it
    // removes on the interface inside it.
    if (first !== undefined) throw first;
    await deleteNetns(record.netnsName, this.spawn);
    if (record.pooledFrom) {
      await deleteNetns(record.pooledFrom.netnsName, this.spawn);
      await this.records.remove(record.pooledFrom.id);
    }
    await this.records.remove(record.id);
  }

  /** A warm attachment's DEL repeats its ADD: the pool's id and namespace. */
  private target(record: AttachmentRecord, network: NetworkRecord): InvocationTarget {
    const from = record.pooledFrom;
    return { containerId: from?.id ?? record.id, netnsPath: from ? netnsPath(from.netnsName) : record.netnsPath, ifName: network.ifName };
  }

  private withId<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (typeof id !== 'string' || !CONTAINER_ID_PATTERN.test(id)) {
      return Promise.reject(new NetworkError('invalid-request', `attachment id ${JSON.stringify(id)} is not a valid id`));
    }
    return this.exclusive(id, fn);
  }

  private exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }
}

/** The record with `mappings` to publish to its bridge address (unchanged without mappings). */
function withHostPorts(record: AttachmentRecord, mappings: readonly PortMapping[]): AttachmentRecord {
  if (mappings.length === 0) return record;
  const address = attachmentOf(record).ipv4Address;
  if (!address) throw new NetworkError('plugin-failed', `the bridge plugin gave ${record.id} no IPv4 address to publish its ports to`);
  return { ...record, hostPorts: { address, mappings: mappings.map((m) => ({ ...m })) } };
}

function attachmentOf(record: AttachmentRecord): Attachment {
  const eth = record.networks.find((n) => n.ifName === BRIDGE_IFNAME);
  return { netnsPath: record.netnsPath, ...(eth?.result ? sandboxAddress(eth.result, BRIDGE_IFNAME, record.netnsPath) : {}) };
}
