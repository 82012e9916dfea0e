import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What e2e tests of host groups share: polling with a deadline, and taking down what the netns provisioner left
 * after a failed run (each host's agent, its namespace, then the hosts' bridge).
 */

/**
 * Poll `probe` (every 500 ms) until it returns a value (not undefined), or fail after `ms` with the last error seen
 * and what `detail` says (e.g. the agents' logs).
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kill the agents of the netns hosts under `hostsDir` (a server's `<data dir>/hosts`), delete their namespaces, then `bridge`. */
export function removeNetnsHosts(hostsDir: string, bridge: string): void {
  for (const id of existsSync(hostsDir) ? readdirSync(hostsDir) : []) {
    const pidFile = join(hostsDir, id, 'agent.pid');
    if (existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')))) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    try {
      execFileSync('ip', ['netns', 'delete', `berth-${id}`], { stdio: 'ignore' });
    } catch {
      // not there
    }
  }
  try {
    execFileSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
  } catch {
    // not there
  }
}
