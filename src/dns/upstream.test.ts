import { describe, expect, it } from 'vitest';
import { upstreamsOf } from './upstream.js';

describe('upstream resolvers from resolv.conf', () => {
  it('takes every nameserver line, port 53, dropping an IPv6 zone', () => {
    expect(upstreamsOf('search corp\nnameserver 10.0.0.2\n# nameserver 9.9.9.9\n  nameserver fe80::1%eth0\noptions edns0\n')).toEqual([
      { host: '10.0.0.2', port: 53 },
      { host: 'fe80::1', port: 53 },
    ]);
    expect(upstreamsOf('')).toEqual([]);
  });
});
