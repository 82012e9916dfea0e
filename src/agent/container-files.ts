import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

  async resolveUser(rootfs: string, user: string) {
    const [name = '0', group] = user.split(':');
    const passwd = parseColonFile(await readFile(join(rootfs, 'etc/passwd'), 'utf8').catch(() => ''));
    const groups = parseColonFile(await readFile(join(rootfs, 'etc/group'), 'utf8').catch(() => ''));
    const entry = /^\d+$/.test(name) ? passwd.find((p) => p[2] === name) : passwd.find((p) => p[0] === name);
    if (!entry && !/^\d+$/.test(name)) throw new Error(`unable to find user ${name}: no matching entries in passwd file`);
    const uid = Number(entry?.[2] ?? name);
    let gid = Number(entry?.[3] ?? 0);
    if (group !== undefined) {
      const g = /^\d+$/.test(group) ? undefined : groups.find((x) => x[0] === group);
      if (!g && !/^\d+$/.test(group)) throw new Error(`unable to find group ${group}: no matching entries in group file`);
      gid = Number(g?.[2] ?? group);
    }
    const userName = entry?.[0];
    const additionalGids = userName
      ? groups.filter((g) => (g[3] ?? '').split(',').includes(userName)).map((g) => Number(g[2])).filter((g) => g !== gid)
      : [];
    return { uid, gid, additionalGids };
  }

  async remove(runtimeId: string): Promise<void> {
    await rm(join(this.root, runtimeId), { recursive: true, force: true });
  }
}

function parseColonFile(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** The host's resolver configuration, minus loopback nameservers a separate network namespace cannot reach. */
export function resolvConfFor(host: string, hostNetwork: boolean): string {
  if (hostNetwork) return host;
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return `${lines.filter((l, i, all) => l !== '' || i < all.length - 1).join('\n')}\n`;
}
