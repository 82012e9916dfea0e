import { describe, expect, it } from 'vitest';
import { bridgeNetworkConfig, bridgeNetworkOptions, DEFAULT_BRIDGE_NETWORK, ipv4SubnetProblem, loopbackNetworkConfig } from './network-configs.js';

describe('the bridge network settings', () => {
  it('default to berth0 on 172.30.0.0/16', () => {
    expect(bridgeNetworkOptions()).toEqual({ name: 'berth', bridge: 'berth0', subnet: '172.30.0.0/16' });
    expect(bridgeNetworkOptions({ subnet: '10.9.0.0/24' })).toEqual({ ...DEFAULT_BRIDGE_NETWORK, subnet: '10.9.0.0/24' });
  });

  it.each([
    [{ bridge: 'a-very-long-bridge' }, 'bridge device name "a-very-long-bridge" must be 1–15 letters'],
    [{ bridge: 'br 0' }, 'bridge device name "br 0"'],
    [{ name: 'has/slash' }, 'bridge network name "has/slash"'],
    [{ subnet: '172.30.0.0' }, 'bridge subnet "172.30.0.0" is not an IPv4 CIDR'],
    [{ subnet: '172.300.0.0/16' }, 'has an octet above 255'],
    [{ subnet: '10.0.0.0/31' }, 'must have a prefix length from 8 to 30'],
    [{ subnet: '172.30.1.0/16' }, 'has host bits set (the network address is 172.30.0.0/16)'],
  ])('refuse %j, naming what is wrong', (options, message) => {
    expect(() => bridgeNetworkOptions(options)).toThrow(message);
  });

  it('accepts network addresses only', () => {
    expect(ipv4SubnetProblem('192.168.4.0/22')).toBeUndefined();
    expect(ipv4SubnetProblem('192.168.5.0/22')).toMatch(/192\.168\.4\.0\/22/);
  });
});

describe('the CNI configurations', () => {
  it('chain bridge (gateway, hairpin, host-local; masquerade and published ports are its own, not plugins)', () => {
    const list = bridgeNetworkConfig(DEFAULT_BRIDGE_NETWORK, '/state/ipam');
    expect(list).toEqual({
      cniVersion: '1.0.0',
      name: 'berth',
      plugins: [
        {
          type: 'bridge',
          bridge: 'berth0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: '172.30.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/state/ipam' },
        },
      ],
    });
  });

  it('loopback alone for none', () => {
    expect(loopbackNetworkConfig('berth').plugins).toEqual([{ type: 'loopback' }]);
  });
});
