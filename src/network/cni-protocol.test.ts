import { describe, expect, it } from 'vitest';
import { parseFailure, parseResult, pluginEnv, pluginInput, sandboxAddress, type CniResult, type NetworkConfigList } from './cni-protocol.js';
import { CniPluginError } from './errors.js';

const list: NetworkConfigList = {
  cniVersion: '1.0.0',
  name: 'net',
  plugins: [
    { type: 'bridge', bridge: 'br0', ipam: { type: 'host-local' } },
    { type: 'portmap', capabilities: { portMappings: true, bandwidth: false }, snat: true },
  ],
};
const portMappings = [{ hostPort: 50000, containerPort: 80, protocol: 'tcp' }];
const prev: CniResult = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] };

describe('plugin input', () => {
  it('adds the list name and version, keeps the plugin object, and passes prevResult when there is one', () => {
    const first = JSON.parse(pluginInput(list, list.plugins[0]!, undefined, { portMappings }));
    expect(first).toEqual({ type: 'bridge', bridge: 'br0', ipam: { type: 'host-local' }, name: 'net', cniVersion: '1.0.0' });
    const second = JSON.parse(pluginInput(list, list.plugins[1]!, prev, { portMappings }));
    expect(second.prevResult).toEqual(prev);
  });

  it('gives runtimeConfig only for capabilities the plugin declares and has switched on', () => {
    const portmap = JSON.parse(pluginInput(list, list.plugins[1]!, prev, { portMappings, bandwidth: { rate: 1 }, ips: ['x'] }));
    expect(portmap.runtimeConfig).toEqual({ portMappings });
    const none = JSON.parse(pluginInput(list, list.plugins[1]!, prev, {}));
    expect(none).not.toHaveProperty('runtimeConfig');
  });

  it('sets only the CNI variables and a PATH with sbin in the environment', () => {
    const env = pluginEnv('DEL', { containerId: 'c1', netnsPath: '/var/run/netns/x', ifName: 'eth0' }, ['/a', '/b']);
    expect(env).toEqual({
      CNI_COMMAND: 'DEL',
      CNI_CONTAINERID: 'c1',
      CNI_NETNS: '/var/run/netns/x',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/a:/b',
      PATH: expect.stringContaining('/usr/sbin'),
    });
  });
});

describe('plugin output', () => {
  it('reads a CNI error object into a typed error with its code, msg and details', () => {
    const error = parseFailure('loopback', 'ADD', 'exited with status 1', '{"code":1,"msg":"incompatible CNI versions","details":"config is 9"}', '');
    expect(error).toBeInstanceOf(CniPluginError);
    expect(error).toMatchObject({ code: 'plugin-failed', plugin: 'loopback', command: 'ADD', cniCode: 1, msg: 'incompatible CNI versions', details: 'config is 9' });
    expect(error.message).toBe('CNI plugin loopback ADD failed (CNI error 1): incompatible CNI versions — config is 9');
  });

  it('falls back to stderr and the exit status when there is no error object', () => {
    const error = parseFailure('bridge', 'DEL', 'killed by SIGSEGV', '', 'panic: runtime error\ngoroutine 1\n');
    expect(error.cniCode).toBeUndefined();
    expect(error.message).toBe('CNI plugin bridge DEL failed: killed by SIGSEGV: panic: runtime error | goroutine 1');
  });

  it('refuses a result that is not one, saying why', () => {
    expect(() => parseResult('bridge', 'ADD', 'hello')).toThrow(/bridge ADD failed: answered with something that is not JSON: hello/);
    expect(() => parseResult('bridge', 'ADD', '{"ips":[]}')).toThrow(/invalid result \(no cniVersion\)/);
    expect(() => parseResult('bridge', 'ADD', '{"cniVersion":"1.0.0","ips":[{"gateway":"x"}]}')).toThrow(/an ips entry has no address/);
    expect(parseResult('bridge', 'ADD', JSON.stringify(prev))).toEqual(prev);
  });

  it('finds the sandbox interface address without its prefix, skipping IPv6 and host-side interfaces', () => {
    const result: CniResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'br0', mac: 'aa:aa:aa:aa:aa:aa' }, { name: 'veth1', mac: 'bb:bb:bb:bb:bb:bb' }, { name: 'eth0', mac: 'cc:cc:cc:cc:cc:cc', sandbox: '/var/run/netns/x' }],
      ips: [
        { interface: 2, address: 'fd00::2/64', gateway: 'fd00::1' },
        { interface: 2, address: '10.0.0.2/24', gateway: '10.0.0.1' },
      ],
    };
    expect(sandboxAddress(result, 'eth0', '/var/run/netns/x')).toEqual({ ipv4Address: '10.0.0.2', gateway: '10.0.0.1', macAddress: 'cc:cc:cc:cc:cc:cc' });
    expect(sandboxAddress({ cniVersion: '1.0.0' }, 'eth0', '/var/run/netns/x')).toEqual({});
  });
});
