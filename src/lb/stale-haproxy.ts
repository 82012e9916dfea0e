/**
 * A `berth lb` killed with SIGKILL leaves its HAProxy running (master and worker keep serving the state they
 * had). The next `berth lb` on the same working directory does not adopt it — its targets' drains, health and
 * config would be guesses — but replaces it with one started afresh from the API's current state:
 *
 *   old HAProxy serving ──findStaleHaproxy (master CLI `show proc`)──▶ its pids
 *     ──new HAProxy started with `-x admin.sock` (takes the listening sockets, as a seamless reload does)──▶
 *     both accept on the same sockets ──retireStaleHaproxy: SIGUSR1 (soft stop: the old worker stops accepting,
 *     finishes what it holds)──▶ gone, or SIGKILLed after the grace period
 *
 * so no connection is refused in between (measured in test/e2e/lb-zero-downtime.test.ts). `stopStaleHaproxy`
 * (SIGKILL every pid, remove the sockets) is what is left when the old worker does not answer on its socket.
 */
import { rmSync } from 'node:fs';
import { haproxyPaths } from './haproxy-process.js';
import { runtimeCommand } from './haproxy-runtime.js';

/** An HAProxy a previous run left serving: its master and workers (current and old). */
export interface StaleHaproxy {
  readonly master: number | undefined;
  readonly workers: readonly number[];
}

/** The pids `show proc` lists by role. */
export function rolesOfShowProc(output: string): StaleHaproxy {
  const rows = output.split('\n').map((line) => /^(\d+)\s+(master|worker)\b/.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  return { master: rows.map((m) => (m[2] === 'master' ? Number(m[1]) : undefined)).find((p) => p !== undefined), workers: rows.filter((m) => m[2] === 'worker').map((m) => Number(m[1])) };
}

/**
 * The HAProxy a previous run left in `dir`, when its master answers and a worker answers on the admin socket (so
 * its listening sockets can be taken over); undefined otherwise.
 */
export async function findStaleHaproxy(dir: string): Promise<StaleHaproxy | undefined> {
  const paths = haproxyPaths(dir);
  const stale = rolesOfShowProc(await runtimeCommand(paths.masterSocket, 'show proc', 2_000).catch(() => ''));
  if (stale.workers.length === 0) return undefined;
  const info = await runtimeCommand(paths.adminSocket, 'show info', 2_000).catch(() => '');
  return /^Pid: \d+/m.test(info) ? stale : undefined;
}

/**
 * Soft-stop an HAProxy whose listeners another took over: SIGUSR1 to its master (its workers stop accepting and
 * finish the requests they hold), SIGKILL to whatever is left after `graceMs`. Resolves when all are gone.
 */
export async function retireStaleHaproxy(stale: StaleHaproxy, graceMs: number, signal: (pid: number, sig: NodeJS.Signals) => void = (pid, sig) => process.kill(pid, sig)): Promise<void> {
  const pids = [...(stale.master ? [stale.master] : []), ...stale.workers];
  const send = (pid: number, sig: NodeJS.Signals) => {
    try {
      signal(pid, sig);
    } catch {
      // Gone already.
    }
  };
  for (const pid of stale.master ? [stale.master] : stale.workers) send(pid, 'SIGUSR1');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(alive)) send(pid, 'SIGKILL');
}

/** The pids `show proc` lists (master, workers, old workers). */
export function pidsOfShowProc(output: string): number[] {
  return output
    .split('\n')
    .map((line) => /^(\d+)\s+(master|worker)\b/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
}

/** Stop an HAProxy a previous run left in `dir`; the pids killed (none when nothing answered). */
export async function stopStaleHaproxy(dir: string, kill: (pid: number) => void = (pid) => process.kill(pid, 'SIGKILL')): Promise<number[]> {
  const paths = haproxyPaths(dir);
  const answer = await runtimeCommand(paths.masterSocket, 'show proc', 2_000).catch(() => '');
  const pids = pidsOfShowProc(answer);
  for (const pid of pids) {
    try {
      kill(pid);
    } catch {
      // Gone already.
    }
  }
  // Wait for them to be gone (their listening sockets close with them).
  const deadline = Date.now() + 5_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  rmSync(paths.masterSocket, { force: true });
  rmSync(paths.adminSocket, { force: true });
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
