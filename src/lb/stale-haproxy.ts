/**
 * A `berth lb` killed with SIGKILL leaves its HAProxy running (master and worker keep serving the state they
 * had). The next `berth lb` on the same working directory does not adopt it — its targets' drains, health and
 * config would be guesses — but stops it and starts afresh from the API's current state: the master CLI socket
 * the previous one left names every pid (`show proc`), each is SIGKILLed, and its sockets are removed. Traffic
 * pauses from the kill until the new HAProxy listens (well under a second, measured in test/e2e/lb-node.test.ts).
 */
import { rmSync } from 'node:fs';
import { haproxyPaths } from './haproxy-process.js';
import { runtimeCommand } from './haproxy-runtime.js';

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
