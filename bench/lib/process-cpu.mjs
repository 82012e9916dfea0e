// CPU time a process (all its threads) has used, from /proc/<pid>/stat: on a machine shared with other
// work, requests/s moves with the neighbours' load, CPU time per request much less.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** User + system CPU seconds used so far by process `pid`. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may hold spaces); utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/**
 * CPU seconds of `pid` and of its living node children (the agent's spawn helper, which forks conmon, the
 * CNI plugins, nft, mount and umount for it): the agent's work wherever it runs.
 */
export function cpuSecondsWithHelpers(pid) {
  let total = cpuSeconds(pid);
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // no children file on this kernel
  }
  for (const child of children) {
    try {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0')[0] === process.execPath) total += cpuSeconds(child);
    } catch {
      // gone
    }
  }
  return total;
}
