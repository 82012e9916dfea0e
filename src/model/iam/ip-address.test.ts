import { describe, expect, it } from 'vitest';
import { blockContains, parseIpBlock } from './ip-address.js';

describe('IP blocks for IpAddress/NotIpAddress', () => {
  it.each([
    ['203.0.113.0/24', '203.0.113.255', true],
    ['203.0.113.0/24', '203.0.112.255', false],
    ['203.0.113.7', '203.0.113.7', true],
    ['203.0.113.7/32', '203.0.113.8', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['2001:DB8:1234:5678::/64', '2001:db8:1234:5678:ffff::1', true],
    ['2001:DB8:1234:5678::/64', '2001:db8:1234:5670::1', false],
    ['::ffff:192.0.2.0/120', '::ffff:192.0.2.33', true],
    ['203.0.113.0/24', '2001:db8::1', false], // versions never mix
    ['203.0.113.0/24', 'not-an-ip', false],
    ['203.0.113.0/24', '203.0.113.0/24', false], // the request value is an address, not a block
  ])('%s contains %s: %s', (block, address, expected) => {
    expect(blockContains(parseIpBlock(block)!, address)).toBe(expected);
  });

  it.each(['256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.4/33', '2001:db8::1::2', '2001:db8::/129', 'gggg::1', ''])('%j is not an address or block', (text) => {
    expect(parseIpBlock(text)).toBeUndefined();
  });
});
