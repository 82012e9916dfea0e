import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sh, uniqueTag } from '../testing/network-fixtures.js';
import { ensureMasquerade, masqueradeRule, removeMasquerade, type Iptables } from './masquerade.js';

// Real iptables, in a namespace of its own so the host's rules are never touched.
const netns = `bm-${uniqueTag()}`;
const iptables: Iptables = (args) =>
  sh('ip', ['netns', 'exec', netns, 'iptables', '-w', ...args]).then(
    () => ({ code: 0, stderr: '' }),
    (error: Error) => ({ code: 1, stderr: error.message }),
  );
const network = { bridge: 'berth9', subnet: '10.99.0.0/24' };
const rules = async () => (await sh('ip', ['netns', 'exec', netns, 'iptables-save', '-t', 'nat'])).split('\n').filter((l) => l.includes('berth masquerade'));

beforeAll(() => sh('ip', ['netns', 'add', netns]));
afterAll(() => sh('ip', ['netns', 'delete', netns]));

describe('the bridge masquerade rule', () => {
  it('masquerades what leaves the subnet by another interface than the bridge, multicast excepted', () => {
    expect(masqueradeRule(network).join(' ')).toBe(
      '-s 10.99.0.0/24 ! -o berth9 ! -d 224.0.0.0/4 -m comment --comment berth masquerade berth9 -j MASQUERADE',
    );
  });

  it('is added once however often it is ensured, and removed', async () => {
    await ensureMasquerade(network, iptables);
    await ensureMasquerade(network, iptables);
    expect(await rules()).toEqual([
      '-A POSTROUTING -s 10.99.0.0/24 ! -d 224.0.0.0/4 ! -o berth9 -m comment --comment "berth masquerade berth9" -j MASQUERADE',
    ]);
    await removeMasquerade(network, iptables);
    expect(await rules()).toEqual([]);
    await removeMasquerade(network, iptables);
  });

  it('says why when iptables refuses', async () => {
    const refusing: Iptables = async () => ({ code: 4, stderr: 'iptables v1.8.9 (nf_tables): no such table\n' });
    await expect(ensureMasquerade(network, refusing)).rejects.toMatchObject({
      code: 'plugin-failed',
      message: 'could not add the masquerade rule for 10.99.0.0/24: iptables v1.8.9 (nf_tables): no such table',
    });
  });
});
