import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readUserDatabase } from '../runtime/rootfs-user-files.js';
import type { ContainerFiles } from './task-engine/deps.js';

/**
 * Per-container files under `<dataDir>/containers/<runtime id>/`: the log conmon writes, and the
 * /etc/hosts, /etc/resolv.conf and /etc/hostname bind-mounted into the container (as Docker generates them).
 */
export class ContainerFileStore implements ContainerFiles {
  constructor(
    private readonly root: string,
    private readonly hostResolvConf = '/etc/resolv.conf',
  ) {}

  async prepare(runtimeId: string, etc: { hostname: string; ipv4?: string; hostNetwork: boolean }) {
    const dir = join(this.root, runtimeId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const paths = {
      logPath: join(dir, 'container.log'),
      hosts: join(dir, 'hosts'),
      resolvConf: join(dir, 'resolv.conf'),
      hostname: join(dir, 'hostname'),
    };
    const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
    if (etc.ipv4) hosts.push(`${etc.ipv4}\t${etc.hostname}`);
    await writeFile(paths.hosts, `${hosts.join('\n')}\n`);
    await writeFile(paths.hostname, `${etc.hostname}\n`);
    await writeFile(paths.resolvConf, resolvConfFor(await readFile(this.hostResolvConf, 'utf8').catch(() => ''), etc.hostNetwork));
    return paths;
  }

  userDatabase(rootfs: string) {
    return readUserDatabase(rootfs);
  }

  async remove(runtimeId: string): Promise<void> {
    await rm(join(this.root, runtimeId), { recursive: true, force: true });
  }
}

/** The host's resolver configuration, minus loopback nameservers a separate network namespace cannot reach. */
export function resolvConfFor(host: string, hostNetwork: boolean): string {
  if (hostNetwork) return host;
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return `${lines.filter((l, i, all) => l !== '' || i < all.length - 1).join('\n')}\n`;
}
