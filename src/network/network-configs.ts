/**
 * The CNI network configurations berth runs, as pure data: its bridge network (bridge + host-local IPAM)
 * and a loopback-only one.
 */
import { CNI_VERSION, type NetworkConfigList } from './cni-protocol.js';
import { NetworkError } from './errors.js';

/** berth's bridge network. Tests and several agents on one machine give each their own. */
export interface BridgeNetworkOptions {
  /**
   * The CNI network name. host-local keeps its leases under `<dataDir>/<name>/`.
   */
  readonly name?: string;
  /** The Linux bridge device (created by the bridge plugin on first use; at most 15 characters). */
  readonly bridge?: string;
  /** IPv4 subnet in CIDR form; the bridge gets its first address as gateway, tasks the others. */
  readonly subnet?: string;
}

/** Bridge network settings with every default filled in. */
export type BridgeNetwork = Required<BridgeNetworkOptions>;

/** berth0 on 172.30.0.0/16: clear of Docker's 172.17.0.0/16 and the default VPC's 172.31.0.0/16. */
export const DEFAULT_BRIDGE_NETWORK: BridgeNetwork = { name: 'berth', bridge: 'berth0', subnet: '172.30.0.0/16' };

/** Defaults filled in and every field checked; throws a NetworkError naming the bad field. */
export function bridgeNetworkOptions(options: BridgeNetworkOptions = {}): BridgeNetwork {
  const network = { ...DEFAULT_BRIDGE_NETWORK, ...options };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(network.name)) {
    throw invalid(`bridge network name "${network.name}" must be 1–64 letters, digits, "_", "." or "-"`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(network.bridge)) {
    throw invalid(`bridge device name "${network.bridge}" must be 1–15 letters, digits, "_", "." or "-"`);
  }
  const problem = ipv4SubnetProblem(network.subnet);
  if (problem) throw invalid(`bridge subnet "${network.subnet}" ${problem}`);
  return network;
}

/**
 * The bridge network for one attachment: the bridge plugin with host-local. Published ports are not a
 * plugin's: one nftables map per bridge holds them (nft-port-map.ts). Attachments made before kept
 * portmap in their cached chain, and their DEL still runs it.
 */
export function bridgeNetworkConfig(network: BridgeNetwork, ipamDataDir: string): NetworkConfigList {
  return {
    cniVersion: CNI_VERSION,
    name: network.name,
    plugins: [
      {
        type: 'bridge',
        bridge: network.bridge,
        // The bridge holds the gateway address, so the host reaches tasks directly and routes their traffic.
        isGateway: true,
        // Tasks reach beyond the host with the host's address, through one rule for the whole subnet
        // (masquerade.ts) rather than a chain per attachment.
        ipMasq: false,
        // A task can reach itself through its own published port.
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: network.subnet }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDataDir,
        },
      },
    ],
  };
}

/** Loopback only: the `none` mode, and the `lo` of every bridge attachment. */
export function loopbackNetworkConfig(name: string): NetworkConfigList {
  return { cniVersion: CNI_VERSION, name: `${name}-loopback`, plugins: [{ type: 'loopback' }] };
}

/** Why `cidr` is not a usable IPv4 network (prefix 8–30, no host bits set), or undefined if it is. */
export function ipv4SubnetProblem(cidr: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return 'is not an IPv4 CIDR such as 172.30.0.0/16';
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255)) return 'has an octet above 255';
  if (prefix < 8 || prefix > 30) return 'must have a prefix length from 8 to 30';
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  if (address % hostBits !== 0) return `has host bits set (the network address is ${formatIpv4(address - (address % hostBits))}/${prefix})`;
  return undefined;
}

const formatIpv4 = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

const invalid = (message: string) => new NetworkError('invalid-request', message);
