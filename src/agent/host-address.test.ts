import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { routeSourceAddress } from './host-address.js';

describe('routeSourceAddress', () => {
  it('is the loopback address for a loopback endpoint', async () => {
    expect(await routeSourceAddress('http://127.0.0.1:7400')).toBe('127.0.0.1');
  });

  it('is the address the kernel picks for the route (what a connected socket shows)', async () => {
    // 192.0.2.1 (TEST-NET-1) takes the default route, if any: the answer must match the kernel's own choice.
    const expected = await new Promise<string | undefined>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(undefined);
      });
      s.connect(80, '192.0.2.1', () => {
        const a = s.address().address;
        s.close();
        resolve(a);
      });
    });
    expect(await routeSourceAddress('http://192.0.2.1:7400')).toBe(expected);
  });

  it('is undefined when the endpoint cannot be resolved', async () => {
    expect(await routeSourceAddress('http://no-such-host.invalid:7400')).toBeUndefined();
  });
});
