import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assertConfigList, type CniResult, type NetworkConfigList, type RuntimeConfig } from './cni-protocol.js';
import { NetworkError } from './errors.js';
import type { AttachMode, PortMapping } from './network.js';

/**
 * What berth must remember about an attachment to undo it, even from another process after a crash: it is
 * written before anything is created and updated as each network's ADD completes (libcni's result cache).
 */
export interface AttachmentRecord {
  readonly version: 1;
  readonly id: string;
  readonly mode: AttachMode;
  readonly netnsName: string;
  readonly netnsPath: string;
  readonly networks: readonly NetworkRecord[];
  /** Ports published for the task (nft-port-map.ts), recorded before they are added. */
  readonly hostPorts?: { readonly address: string; readonly mappings: readonly PortMapping[] };
  /**
   * Set when the attachment is a warm one taken from the pool (warm-pool.ts): made as `id` (the CNI
   * container id its ADD ran with, which DEL must repeat) in the namespace `netnsName`, which `netnsName`
   * above names too, as a symbolic link. That pool record may outlive a crash beside this one; this one wins.
   */
  readonly pooledFrom?: { readonly id: string; readonly netnsName: string };
}

/** One CNI network in the namespace, exactly as ADD ran it: DEL must get the same config and runtime values. */
export interface NetworkRecord {
  readonly ifName: string;
  readonly config: NetworkConfigList;
  readonly runtimeConfig: RuntimeConfig;
  /** Whether detach runs DEL (false where the plugins keep nothing outside the namespace, e.g. loopback). */
  readonly delOnDetach: boolean;
  /** The ADD's result once the whole chain succeeded; DEL and CHECK pass it as prevResult. */
  readonly result?: CniResult;
}

/** Attachment records as one JSON file each in a directory, replaced atomically (write, fsync, rename). */
export class AttachmentStore {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly dir: string) {}

  /**
   * Replace the record of `record.id`. A process crash never loses a write; `durable` also makes it
   * survive power loss (fsync), which only matters for what outlives a reboot: host-local's lease files.
   */
  async write(record: AttachmentRecord, durable: boolean): Promise<void> {
    await this.ensureDir();
    const path = this.path(record.id);
    const tmp = `${path}.tmp`;
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(record));
      if (durable) await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  }

  /** The record for `id`, or undefined if there is none. */
  async read(id: string): Promise<AttachmentRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(id), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new NetworkError('state-unreadable', `cannot read ${this.path(id)}: ${(error as Error).message}`, { cause: error });
    }
    return parseRecord(text, id, this.path(id));
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  /** Ids of every record, sorted. */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)).sort();
  }

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private ensureDir(): Promise<unknown> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }
}

function parseRecord(text: string, id: string, path: string): AttachmentRecord {
  const bad = (why: string) => new NetworkError('state-unreadable', `attachment record ${path} ${why}`);
  let value: Partial<AttachmentRecord>;
  try {
    value = JSON.parse(text) as Partial<AttachmentRecord>;
  } catch {
    throw bad('is not JSON');
  }
  if (value?.version !== 1) throw bad(`has unknown version ${JSON.stringify(value?.version)}`);
  if (value.id !== id) throw bad(`is for ${JSON.stringify(value.id)}, not ${id}`);
  if (typeof value.netnsName !== 'string' || typeof value.netnsPath !== 'string') throw bad('names no namespace');
  if (!Array.isArray(value.networks)) throw bad('has no networks');
  value.networks.forEach((n, i) => {
    if (typeof n?.ifName !== 'string' || typeof n.runtimeConfig !== 'object') throw bad(`network ${i} is incomplete`);
    assertConfigList(n.config, `network ${i} of ${path}`);
  });
  return value as AttachmentRecord;
}
