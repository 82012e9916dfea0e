/**
 * Named network namespaces, made with iproute2's `ip netns` so that they are the same objects operators
 * see with `ip netns list` and can enter with `ip netns exec`: a bind mount of the namespace at
 * /var/run/netns/<name> keeps it alive without any process in it, across agent restarts.
 */
import { existsSync } from 'node:fs';
import { lstat, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { directSpawn, type SpawnFn } from '../process/spawn-helper.js';
import { TOOL_PATH } from './cni-protocol.js';
import { NetworkError } from './errors.js';

export const NETNS_DIR = '/var/run/netns';

/** Where the namespace called `name` is mounted (what CNI_NETNS and the runtime get). */
export const netnsPath = (name: string) => join(NETNS_DIR, name);

/** Create the namespace `name`; fails if one by that name exists. */
export async function createNetns(name: string, spawn: SpawnFn = directSpawn): Promise<string> {
  try {
    await ip(spawn, ['netns', 'add', name]);
  } catch (error) {
    const exists = existsSync(netnsPath(name)) ? ' (a namespace by that name already exists)' : '';
    throw new NetworkError('namespace-failed', `could not create network namespace ${name}${exists}: ${message(error)}`, { cause: error });
  }
  return netnsPath(name);
}

/**
 * Delete the namespace `name` if it exists. The kernel frees it, and every interface in it, once the last
 * process inside has gone. Also removes a mount point left by a crash inside `ip netns add`. An alias
 * (aliasNetns) is only unlinked: the namespace it names goes when its own name is deleted.
 */
export async function deleteNetns(name: string, spawn: SpawnFn = directSpawn): Promise<void> {
  if (await isLink(name)) return rm(netnsPath(name), { force: true });
  if (!existsSync(netnsPath(name))) return;
  try {
    await ip(spawn, ['netns', 'delete', name]);
  } catch (error) {
    if (!existsSync(netnsPath(name))) return;
    throw new NetworkError('namespace-failed', `could not delete network namespace ${name}: ${message(error)}`, { cause: error });
  }
}

/**
 * Give the namespace `target` the name `name` too: a symbolic link beside its mount point, which `ip netns
 * list` shows and `ip netns exec`, nsenter and runc follow. A warm attachment is made before its task is
 * known; this names it after the task without a process (`mount --bind` would be one). Fails if `name` exists.
 */
export async function aliasNetns(target: string, name: string): Promise<string> {
  try {
    await symlink(target, netnsPath(name));
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === 'EEXIST' ? ' (a namespace by that name already exists)' : '';
    throw new NetworkError('namespace-failed', `could not name network namespace ${target} ${name}${exists}: ${message(error)}`, { cause: error });
  }
  return netnsPath(name);
}

/** Whether the namespace name `name` is an alias (aliasNetns) rather than a mount point of its own. */
async function isLink(name: string): Promise<boolean> {
  try {
    return (await lstat(netnsPath(name))).isSymbolicLink();
  } catch {
    return false;
  }
}

/** `ip <args>`; rejects with its stderr when it fails or runs longer than 30 s. */
function ip(spawn: SpawnFn, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { env: { ...(process.env as Record<string, string>), PATH: TOOL_PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr += d));
    child.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(Object.assign(error, { stderr }));
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(Object.assign(new Error(`ip ${args.join(' ')} ${signal ? `killed by ${signal}` : `exited with status ${code}`}`), { stderr }));
    });
  });
}

const message = (error: unknown) => {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(error)).split('\n')[0];
};
