import { describe, expect, it } from 'vitest';
import { parseBlkio, parseFlatKeyed, parseIoStat, parseLimit, parseNetDev, parseSystemCpuNanos } from './cgroup-stats.js';

describe('cgroup and /proc parsers for container stats', () => {
  it('reads key-value files, skipping what is not a number', () => {
    expect(parseFlatKeyed('cache 4096\nrss 8192\nodd line\n\n')).toEqual({ cache: 4096, rss: 8192 });
    expect(parseFlatKeyed('user 12\nsystem 3\n')).toEqual({ user: 12, system: 3 });
  });

  it('treats max and empty files as no limit', () => {
    expect(parseLimit('max\n')).toBeUndefined();
    expect(parseLimit(undefined)).toBeUndefined();
    expect(parseLimit('50\n')).toBe(50);
  });

  it('reads blkio throttle files without the Total line', () => {
    expect(parseBlkio('8:0 Read 4096\n8:0 Write 512\nTotal 4608\n')).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 512 },
    ]);
    expect(parseBlkio('Total 0\n')).toEqual([]);
  });

  it('turns cgroup v2 io.stat into blkio entries', () => {
    expect(parseIoStat('259:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n')).toEqual({
      serviceBytes: [
        { major: 259, minor: 0, op: 'Read', value: 100 },
        { major: 259, minor: 0, op: 'Write', value: 200 },
      ],
      serviced: [
        { major: 259, minor: 0, op: 'Read', value: 3 },
        { major: 259, minor: 0, op: 'Write', value: 4 },
      ],
    });
  });

  it('sums /proc/stat user to softirq as Docker does, in nanoseconds', () => {
    // user nice system idle iowait irq softirq | steal guest guest_nice (not counted)
    expect(parseSystemCpuNanos('cpu  1 2 3 4 5 6 7 100 100 100\ncpu0 1 1 1 1 1 1 1 0 0 0\n')).toBe(28 * 10_000_000);
    expect(parseSystemCpuNanos('intr 1 2 3\n')).toBeUndefined();
  });

  it('reads interface counters from net/dev, leaving out the loopback', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0',
      '  eth0:    5000      40    1    2    0     0          0         0     3000      30    3    4    0     0       0          0',
    ].join('\n');
    expect(parseNetDev(text)).toEqual({
      eth0: { rxBytes: 5000, rxPackets: 40, rxErrors: 1, rxDropped: 2, txBytes: 3000, txPackets: 30, txErrors: 3, txDropped: 4 },
    });
  });
});
