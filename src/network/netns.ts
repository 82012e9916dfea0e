/**
 * Named network namespaces, made with iproute2's `ip netns` so that they are the same objects operators
 * see with `ip netns list` and can enter with `ip netns exec`: a bind mount of the namespace at
 * /var/run/netns/<name> keeps it alive without any process in it, across agent restarts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TOOL_PATH } from './cni-protocol.js';
import { NetworkError } from './errors.js';

export const NETNS_DIR = '/var/run/netns';

/** Where the namespace called `name` is mounted (what CNI_NETNS and the runtime get). */
export const netnsPath = (name: string) => join(NETNS_DIR, name);

/** Create the namespace `name`; fails if one by that name exists. */
export async function createNetns(name: string): Promise<string> {
  try {
    await ip(['netns', 'add', name]);
  } catch (error) {
    const exists = existsSync(netnsPath(name)) ? ' (a namespace by that name already exists)' : '';
    throw new NetworkError('namespace-failed', `could not create network namespace ${name}${exists}: ${message(error)}`, { cause: error });
  }
  return netnsPath(name);
}

/**
 * Delete the namespace `name` if it exists. The kernel frees it, and every interface in it, once the last
 * process inside has gone. Also removes a mount point left by a crash inside `ip netns add`.
 */
export async function deleteNetns(name: string): Promise<void> {
  if (!existsSync(netnsPath(name))) return;
  try {
    await ip(['netns', 'delete', name]);
  } catch (error) {
    if (!existsSync(netnsPath(name))) return;
    throw new NetworkError('namespace-failed', `could not delete network namespace ${name}: ${message(error)}`, { cause: error });
  }
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 30_000, env: { ...process.env, PATH: TOOL_PATH } }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve();
    });
  });
}

const message = (error: unknown) => {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(error)).split('\n')[0];
};
