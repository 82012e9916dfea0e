import { describe, expect, it } from 'vitest';
import { addPortsScript, parseMappedPorts, portMapTableScript, removePortsScript } from './nft-port-map.js';

const network = { bridge: 'berth0', subnet: '172.30.0.0/16' };
const mappings = [
  { protocol: 'tcp', hostPort: 49153, containerPort: 80 },
  { protocol: 'udp', hostPort: 5353, containerPort: 53 },
] as const;

describe('the port map scripts', () => {
  it('make the table with its map, DNAT from outside and from the host, and masquerade for localhost and hairpin', () => {
    const script = portMapTableScript(network);
    expect(script).toContain('add map ip berth-berth0 ports { type inet_proto . inet_service : ipv4_addr . inet_service; }');
    expect(script).toContain('add rule ip berth-berth0 prerouting fib daddr type local dnat ip to meta l4proto . th dport map @ports');
    expect(script).toContain('add rule ip berth-berth0 output fib daddr type local dnat ip to meta l4proto . th dport map @ports');
    expect(script).toContain('ct status dnat ip saddr 127.0.0.0/8 ip daddr 172.30.0.0/16 masquerade');
    expect(script).toContain('ct status dnat ip saddr 172.30.0.0/16 ip daddr 172.30.0.0/16 masquerade');
    // Run again (an agent restart), the chains are flushed before their rules are added: never twice.
    expect(script.indexOf('flush chain ip berth-berth0 prerouting')).toBeLessThan(script.indexOf('add rule ip berth-berth0 prerouting'));
    expect(script).not.toMatch(/flush (table|map)/);
  });

  it('publish an attachment’s ports in one element list, and withdraw them whether or not they are there', () => {
    expect(addPortsScript(network, '172.30.0.7', mappings)).toBe('add element ip berth-berth0 ports { tcp . 49153 : 172.30.0.7 . 80, udp . 5353 : 172.30.0.7 . 53 }\n');
    expect(removePortsScript(network, '172.30.0.7', mappings)).toBe(
      'add element ip berth-berth0 ports { tcp . 49153 : 172.30.0.7 . 80, udp . 5353 : 172.30.0.7 . 53 }\n' +
        'delete element ip berth-berth0 ports { tcp . 49153, udp . 5353 }\n',
    );
  });

  it('reads the map back from nft -j', () => {
    const json =
      '{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"map": {"family": "ip", "name": "ports", "table": "berth-x", "elem": ' +
      '[[{"concat": ["tcp", 49153]}, {"concat": ["10.9.0.5", 80]}], [{"concat": ["udp", 5000]}, {"concat": ["10.9.0.6", 53]}]]}}]}';
    expect(parseMappedPorts(json)).toEqual([
      { protocol: 'tcp', hostPort: 49153, address: '10.9.0.5', containerPort: 80 },
      { protocol: 'udp', hostPort: 5000, address: '10.9.0.6', containerPort: 53 },
    ]);
    expect(parseMappedPorts('{"nftables": [{"map": {"name": "ports"}}]}')).toEqual([]);
  });
});
