import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pidsOfShowProc, retireStaleHaproxy, rolesOfShowProc } from './stale-haproxy.js';

const SHOW_PROC = [
  '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
  '3673            master          1 [failed: 0]   0d00h00m01s     2.6.12-1+deb12u4',
  '# workers',
  '3675            worker          0               0d00h00m01s     2.6.12-1+deb12u4',
  '# old workers',
  '3674            worker          1               0d00h00m01s     2.6.12-1+deb12u4',
  '# programs',
  '',
].join('\n');

describe('pidsOfShowProc', () => {
  it("lists the master's, workers' and old workers' pids of HAProxy 2.6's `show proc`", () => {
    expect(pidsOfShowProc(SHOW_PROC)).toEqual([3673, 3675, 3674]);
    expect(pidsOfShowProc('')).toEqual([]);
  });
  it('tells the master from the workers', () => {
    expect(rolesOfShowProc(SHOW_PROC)).toEqual({ master: 3673, workers: [3675, 3674] });
    expect(rolesOfShowProc('')).toEqual({ master: undefined, workers: [] });
  });
});

describe('retireStaleHaproxy', () => {
  it('soft-stops through the master (SIGUSR1), then SIGKILLs what is still alive after the grace period', async () => {
    const sent: [number, string][] = [];
    // Pids that cannot exist (above pid_max), so "still alive" is decided by the fake signal only: none are.
    await retireStaleHaproxy({ master: 2 ** 30, workers: [2 ** 30 + 1] }, 0, (pid, sig) => void sent.push([pid, sig]));
    expect(sent).toEqual([[2 ** 30, 'SIGUSR1']]);
  });
  it('signals the workers themselves when no master answered', async () => {
    const sent: [number, string][] = [];
    await retireStaleHaproxy({ master: undefined, workers: [2 ** 30 + 1, 2 ** 30 + 2] }, 0, (pid, sig) => void sent.push([pid, sig]));
    expect(sent).toEqual([
      [2 ** 30 + 1, 'SIGUSR1'],
      [2 ** 30 + 2, 'SIGUSR1'],
    ]);
  });
  it('kills a process that ignores the soft stop once the grace period is over', async () => {
    // A stand-in for a worker that does not finish: it ignores SIGUSR1.
    const child = spawn(process.execPath, ['-e', "process.on('SIGUSR1', () => {}); setInterval(() => {}, 1000); process.stdout.write('ready')"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => child.stdout!.once('data', r));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    const started = Date.now();
    await retireStaleHaproxy({ master: child.pid, workers: [] }, 300);
    expect(await exited).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
