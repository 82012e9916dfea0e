/**
 * Published host ports as one nftables map per berth bridge, in place of the CNI portmap plugin. portmap
 * runs iptables a dozen times per ADD and DEL (chains and rules per container, under the xtables lock:
 * ~31 ms to add and ~100 ms to remove, serialised across every task starting or stopping), where here an
 * attachment's ports are one `nft` call that adds or removes map elements, atomically.
 *
 *   table ip berth-<bridge>
 *     map ports        proto . host port → task address . container port
 *     prerouting/output: to a local address → DNAT through the map  (other hosts, the host, 127.0.0.1)
 *     postrouting:       DNATed from 127.0.0.0/8 or from the bridge's subnet to it → masquerade
 *                        (127.0.0.1:<hostPort>, and a task reaching itself or another through a host port,
 *                        as portmap's snat and hairpin handling do)
 *
 * The table is made once per process (idempotent: an agent restart re-creates the chains' rules and keeps
 * the map's elements, which belong to tasks still running). Like the bridge and its masquerade rule, it
 * stays when the agent stops; `removePortMapTable` is for whoever removes the bridge.
 */
import { execFile } from 'node:child_process';
import { directSpawn, type SpawnFn } from '../process/spawn-helper.js';
import { writeFile } from 'node:fs/promises';
import { NetworkError } from './errors.js';
import type { PortMapping } from './network.js';

/** The bridge whose tasks' ports are published. */
export interface PortMappedNetwork {
  readonly bridge: string;
  readonly subnet: string;
}

/** Runs `nft -f -` with this script on stdin; resolves to its exit status. */
export type Nft = (script: string) => Promise<{ code: number; stderr: string }>;

/** The table of a bridge (bridge names are unique on a host and are nft identifiers too). */
export const portMapTable = (network: Pick<PortMappedNetwork, 'bridge'>) => `berth-${network.bridge}`;

/** The script that makes (or re-makes, keeping the map's elements) the bridge's table. Pure. */
export function portMapTableScript(network: PortMappedNetwork): string {
  const t = `ip ${portMapTable(network)}`;
  const dnat = 'fib daddr type local dnat ip to meta l4proto . th dport map @ports';
  return [
    `add table ${t}`,
    `add map ${t} ports { type inet_proto . inet_service : ipv4_addr . inet_service; }`,
    `add chain ${t} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${t} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain ${t} prerouting`,
    `flush chain ${t} output`,
    `flush chain ${t} postrouting`,
    `add rule ${t} prerouting ${dnat}`,
    `add rule ${t} output ${dnat}`,
    `add rule ${t} postrouting ct status dnat ip saddr 127.0.0.0/8 ip daddr ${network.subnet} masquerade`,
    `add rule ${t} postrouting ct status dnat ip saddr ${network.subnet} ip daddr ${network.subnet} masquerade`,
    '',
  ].join('\n');
}

const element = (address: string, m: PortMapping) => `${m.protocol} . ${m.hostPort} : ${address} . ${m.containerPort}`;

/** The script that publishes `mappings` to `address`. Pure. */
export function addPortsScript(network: Pick<PortMappedNetwork, 'bridge'>, address: string, mappings: readonly PortMapping[]): string {
  return `add element ip ${portMapTable(network)} ports { ${mappings.map((m) => element(address, m)).join(', ')} }\n`;
}

/**
 * The script that withdraws `mappings`: added first, so that one transaction succeeds whether or not they
 * are there (a detach after a crash before the add, or a second detach). Pure.
 */
export function removePortsScript(network: Pick<PortMappedNetwork, 'bridge'>, address: string, mappings: readonly PortMapping[]): string {
  const keys = mappings.map((m) => `${m.protocol} . ${m.hostPort}`).join(', ');
  return `${addPortsScript(network, address, mappings)}delete element ip ${portMapTable(network)} ports { ${keys} }\n`;
}

/**
 * Make the bridge's table, and let DNAT to the bridge keep a 127.0.0.0/8 source until masquerade rewrites
 * it (route_localnet on the bridge, as portmap sets it). Call after the bridge exists.
 */
export async function ensurePortMapTable(network: PortMappedNetwork, nft: Nft = runNft): Promise<void> {
  await run(nft, portMapTableScript(network), `could not set up the port map of ${network.bridge}`);
  await writeFile(`/proc/sys/net/ipv4/conf/${network.bridge}/route_localnet`, '1').catch((error: unknown) => {
    throw new NetworkError('plugin-failed', `could not let ${network.bridge} route 127.0.0.1 to tasks: ${(error as Error).message}`);
  });
}

/** Publish `mappings` to `address`. */
export function addPorts(network: PortMappedNetwork, address: string, mappings: readonly PortMapping[], nft: Nft = runNft): Promise<void> {
  return run(nft, addPortsScript(network, address, mappings), `could not publish ports ${mappings.map((m) => m.hostPort).join(', ')}`);
}

/** Withdraw `mappings` (idempotent). */
export function removePorts(network: PortMappedNetwork, address: string, mappings: readonly PortMapping[], nft: Nft = runNft): Promise<void> {
  return run(nft, removePortsScript(network, address, mappings), `could not withdraw ports ${mappings.map((m) => m.hostPort).join(', ')}`);
}

/** Remove the bridge's table and every mapping in it; for whoever removes the bridge too. */
export async function removePortMapTable(network: Pick<PortMappedNetwork, 'bridge'>, nft: Nft = runNft): Promise<void> {
  // `add` first: deleting a table that is not there is an error, and this must be idempotent.
  await nft(`add table ip ${portMapTable(network)}\ndelete table ip ${portMapTable(network)}\n`);
}

/** One published port as the map holds it. */
export interface MappedPort {
  readonly protocol: string;
  readonly hostPort: number;
  readonly address: string;
  readonly containerPort: number;
}

/** The map's elements from `nft -j list map …` output. Pure. */
export function parseMappedPorts(json: string): MappedPort[] {
  type Elem = [{ concat: [string, number] }, { concat: [string, number] }];
  const doc = JSON.parse(json) as { nftables: { map?: { elem?: Elem[] } }[] };
  return doc.nftables.flatMap((o) => o.map?.elem ?? []).map(([key, value]) => ({
    protocol: key.concat[0],
    hostPort: key.concat[1],
    address: value.concat[0],
    containerPort: value.concat[1],
  }));
}

/** The ports published on the bridge now (none when its table does not exist). */
export function mappedPorts(network: Pick<PortMappedNetwork, 'bridge'>): Promise<MappedPort[]> {
  return new Promise((resolve) => {
    execFile('nft', ['-j', 'list', 'map', 'ip', portMapTable(network), 'ports'], (error, stdout) => resolve(error ? [] : parseMappedPorts(stdout)));
  });
}

async function run(nft: Nft, script: string, what: string): Promise<void> {
  const { code, stderr } = await nft(script);
  if (code !== 0) throw new NetworkError('plugin-failed', `${what}: ${stderr.trim() || `nft exited with ${code}`}`);
}

/** `nft -f -` from Debian's nftables package, started by `spawn` (Node's, or a spawn helper's). */
export const nftThrough =
  (spawn: SpawnFn): Nft =>
  (script) =>
    new Promise((resolve) => {
      const child = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => (stderr += d));
      child.on('error', (error: Error) => resolve({ code: 127, stderr: `cannot run nft (install Debian's nftables): ${error.message}` }));
      child.on('close', (code: number | null) => resolve({ code: code ?? 1, stderr }));
      child.stdin!.end(script);
    });

/** `nft -f -` spawned by the agent itself. */
export const runNft: Nft = nftThrough(directSpawn);
