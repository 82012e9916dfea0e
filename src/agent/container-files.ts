import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readUserDatabase } from '../runtime/rootfs-user-files.js';
import type { UserDatabase } from '../runtime/process-from-image.js';
import type { ContainerFiles, EtcSettings, HostsEntry } from './task-engine/deps.js';

/** How many images' user databases are kept. */
const USER_DATABASES_KEPT = 64;

/**
 * Per-container files under `<dataDir>/containers/<runtime id>/`: the log conmon writes, and the
 * /etc/hosts, /etc/resolv.conf and /etc/hostname bind-mounted into the container (as Docker generates them).
 */
export class ContainerFileStore implements ContainerFiles {
  /**
   * Each image's user database, as every fresh root filesystem of it has it (an image id names its
   * content, and a container is created before it ever ran): read once per image instead of from each
   * new rootfs, which kept each start waiting ~5-7 ms after its mount. Bounded; insertion order.
   */
  private readonly users = new Map<string, UserDatabase>();

  constructor(
    private readonly root: string,
    private readonly hostResolvConf = '/etc/resolv.conf',
    private readonly hostHosts = '/etc/hosts',
    /**
     * berth's DNS server as a container created now reaches it (BERTH_DNS_SERVER, or the node-local relay once the
     * control plane advertises its DNS: dns-relay.ts), the containers' resolver unless a task names its own.
     */
    private readonly berthDns: () => string | undefined = () => undefined,
  ) {}

  logPath(runtimeId: string): string {
    return join(this.root, runtimeId, 'container.log');
  }

  async prepare(runtimeId: string, etc: EtcSettings) {
    const dir = join(this.root, runtimeId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const paths = {
      logPath: this.logPath(runtimeId),
      hosts: join(dir, 'hosts'),
      resolvConf: join(dir, 'resolv.conf'),
      hostname: join(dir, 'hostname'),
    };
    // The three files at once: each is a few thread-pool round trips, which queue behind the rootfs's
    // own file work while a task starts.
    await Promise.all([
      // A host-network container sees the host's /etc/hosts, plus its extraHosts (as Docker's --add-host).
      (etc.hostNetwork ? readFile(this.hostHosts, 'utf8').catch(() => undefined) : Promise.resolve(undefined)).then((base) =>
        writeFile(paths.hosts, base === undefined ? hostsFile(etc.hosts ?? []) : appendHosts(base, etc.hosts ?? [])),
      ),
      writeFile(paths.hostname, `${etc.hostname}\n`),
      readFile(this.hostResolvConf, 'utf8')
        .catch(() => '')
        .then((host) => writeFile(paths.resolvConf, resolvConfFor(host, etc, this.berthDns()))),
    ]);
    return paths;
  }

  async writeHosts(runtimeId: string, entries: readonly HostsEntry[]): Promise<void> {
    const path = join(this.root, runtimeId, 'hosts');
    // A Service Connect line written meanwhile (writeServiceConnectHosts) is kept.
    const kept = ((await readFile(path, 'utf8').catch(() => '')).split('\n').find((l) => l.endsWith(SERVICE_CONNECT_MARK)));
    // writeFile truncates and rewrites the same inode, which the container's bind mount shows.
    await writeFile(path, hostsFile(entries) + (kept ? `${kept}\n` : ''));
  }

  /**
   * Replace the Service Connect line of a container's /etc/hosts (its client aliases at the proxy's
   * address; none when `names` is empty), written only when it differs. Rewritten in place, so the bind
   * mount shows it. Called again and again: the task engine rewrites the file once the container's network
   * is attached (container-create.ts), which drops the line. A container without the file yet is skipped.
   */
  async writeServiceConnectHosts(runtimeId: string, address: string, names: readonly string[]): Promise<void> {
    const path = join(this.root, runtimeId, 'hosts');
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current === undefined) return;
    const next = withServiceConnectLine(current, address, names);
    if (next !== current) await writeFile(path, next);
  }

  knownUserDatabase(imageId: string): UserDatabase | undefined {
    return this.users.get(imageId);
  }

  async userDatabase(imageId: string, rootfs: Promise<string>): Promise<UserDatabase> {
    const known = this.users.get(imageId);
    if (known) return known;
    const users = await readUserDatabase(await rootfs);
    if (this.users.size >= USER_DATABASES_KEPT) this.users.delete(this.users.keys().next().value!);
    this.users.set(imageId, users);
    return users;
  }

  async remove(runtimeId: string): Promise<void> {
    await rm(join(this.root, runtimeId), { recursive: true, force: true });
  }
}

/** /etc/hosts: localhost, then each entry (an address and its names). */
export function hostsFile(entries: readonly HostsEntry[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...entries.map((e) => `${e.ip}\t${e.names.join(' ')}`)];
  return `${lines.join('\n')}\n`;
}

const SERVICE_CONNECT_MARK = '# berth service connect';

/** `hosts` with its Service Connect line (marked) replaced by one for `names` at `address`. Pure. */
export function withServiceConnectLine(hosts: string, address: string, names: readonly string[]): string {
  const kept = hosts.split('\n').filter((l) => l !== '' && !l.endsWith(SERVICE_CONNECT_MARK));
  if (names.length) kept.push(`${address}\t${names.join(' ')} ${SERVICE_CONNECT_MARK}`);
  return `${kept.join('\n')}\n`;
}

function appendHosts(base: string, entries: readonly HostsEntry[]): string {
  const lines = entries.map((e) => `${e.ip}\t${e.names.join(' ')}\n`).join('');
  return base === '' || base.endsWith('\n') ? base + lines : `${base}\n${lines}`;
}

/**
 * /etc/resolv.conf as Docker writes it: the host's, minus loopback nameservers a separate network namespace
 * cannot reach; the task definition's dnsServers and dnsSearchDomains replace the host's when given. With
 * berth's DNS server (`berthDns`) it is the one nameserver of every container (host mode too: Cloud Map names
 * resolve everywhere, and it forwards the rest to the host's resolvers), unless the task sets dnsServers.
 */
export function resolvConfFor(host: string, etc: Pick<EtcSettings, 'hostNetwork' | 'dnsServers' | 'dnsSearchDomains'>, berthDns?: string): string {
  if (berthDns !== undefined && !etc.dnsServers?.length) return resolvConfFor(host, { ...etc, dnsServers: [berthDns] });
  if (etc.hostNetwork && !etc.dnsServers?.length && !etc.dnsSearchDomains?.length) return host;
  let lines = host.split('\n').filter((l) => l.trim() !== '');
  if (!etc.hostNetwork) lines = lines.filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (etc.dnsServers?.length) lines = [...lines.filter((l) => !/^\s*nameserver\s/.test(l)), ...etc.dnsServers.map((d) => `nameserver ${d}`)];
  if (etc.dnsSearchDomains?.length) lines = [...lines.filter((l) => !/^\s*(search|domain)\s/.test(l)), `search ${etc.dnsSearchDomains.join(' ')}`];
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return `${lines.join('\n')}\n`;
}
