import { describe, expect, it } from 'vitest';
import { pidsOfShowProc } from './stale-haproxy.js';

describe('pidsOfShowProc', () => {
  it("lists the master's, workers' and old workers' pids of HAProxy 2.6's `show proc`", () => {
    const out = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
      '3673            master          1 [failed: 0]   0d00h00m01s     2.6.12-1+deb12u4',
      '# workers',
      '3675            worker          0               0d00h00m01s     2.6.12-1+deb12u4',
      '# old workers',
      '3674            worker          1               0d00h00m01s     2.6.12-1+deb12u4',
      '# programs',
      '',
    ].join('\n');
    expect(pidsOfShowProc(out)).toEqual([3673, 3675, 3674]);
    expect(pidsOfShowProc('')).toEqual([]);
  });
});
