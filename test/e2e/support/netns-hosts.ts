import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether process `pid` is alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a failed run of a test with netns host-group hosts left (`<data dir>/hosts/<instance id>/`): each host's
 * agent killed, its namespace deleted, then the hosts' bridge.
 */
export function removeNetnsHosts(hostsDir: string, bridge: string): void {
  if (existsSync(hostsDir)) {
    for (const id of readdirSync(hostsDir)) {
      const pidFile = join(hostsDir, id, 'agent.pid');
      if (existsSync(pidFile) && processAlive(Number(readFileSync(pidFile, 'utf8')))) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      quietly('ip', ['netns', 'delete', `berth-${id}`]);
    }
  }
  quietly('ip', ['link', 'delete', bridge]);
}

function quietly(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
  } catch {
    // not there
  }
}
