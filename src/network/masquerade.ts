import { execFile } from 'node:child_process';
import { NetworkError } from './errors.js';

/**
 * One MASQUERADE rule per berth bridge, as Docker keeps for docker0: tasks reach beyond the host with the
 * host's address. It replaces the bridge plugin's `ipMasq`, which adds a chain and three rules on every ADD
 * and removes them on every DEL (about 10 ms and 40 ms of iptables, serialised under the xtables lock, so a
 * service starting 100 tasks waited on it). Like the bridge itself, the rule stays when the agent stops:
 * the tasks still running need it.
 */
export interface MasqueradedNetwork {
  readonly bridge: string;
  readonly subnet: string;
}

/** Runs iptables with these arguments; resolves to its exit status. */
export type Iptables = (args: readonly string[]) => Promise<{ code: number; stderr: string }>;

/** The rule: from the subnet, out of any interface but the bridge, not multicast (the bridge plugin's exception). */
export function masqueradeRule(network: MasqueradedNetwork): string[] {
  return [
    '-s', network.subnet,
    '!', '-o', network.bridge,
    '!', '-d', '224.0.0.0/4',
    '-m', 'comment', '--comment', `berth masquerade ${network.bridge}`,
    '-j', 'MASQUERADE',
  ];
}

/** Add the rule unless it is there (idempotent, also across agent restarts). */
export async function ensureMasquerade(network: MasqueradedNetwork, iptables: Iptables = runIptables): Promise<void> {
  const rule = masqueradeRule(network);
  if ((await iptables(['-t', 'nat', '-C', 'POSTROUTING', ...rule])).code === 0) return;
  const added = await iptables(['-t', 'nat', '-A', 'POSTROUTING', ...rule]);
  if (added.code !== 0) {
    throw new NetworkError('plugin-failed', `could not add the masquerade rule for ${network.subnet}: ${added.stderr.trim() || `iptables exited with ${added.code}`}`);
  }
}

/** Remove the rule (every copy); for whoever removes the bridge too. */
export async function removeMasquerade(network: MasqueradedNetwork, iptables: Iptables = runIptables): Promise<void> {
  const rule = masqueradeRule(network);
  while ((await iptables(['-t', 'nat', '-D', 'POSTROUTING', ...rule])).code === 0);
}

/** `iptables -w`: wait for the xtables lock rather than fail when a CNI plugin holds it. */
export const runIptables: Iptables = (args) =>
  new Promise((resolve) => {
    execFile('iptables', ['-w', ...args], (error, _stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({ code, stderr: error && typeof error.code !== 'number' ? error.message : stderr });
    });
  });
