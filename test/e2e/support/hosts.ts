import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Simulated hosts on one machine: a bridge in the root network namespace with the control plane's address,
 * and one network namespace per host joined to it by a veth pair (its eth0), each with its own address and
 * a default route through the bridge. Each agent then runs in its own namespace, like a separate machine.
 */
export interface HostLab {
  /** The root namespace's address on the lab network (where the server and the registry listen). */
  readonly gateway: string;
  readonly hosts: readonly { readonly netns: string; readonly address: string }[];
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** The machine's DNS servers (not loopback ones: those refuse at once in a namespace of its own). */
function nameservers(): string[] {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*nameserver\s+([0-9.]+)\s*$/gm)].map((m) => m[1]!).filter((a) => !a.startsWith('127.'));
}

/**
 * A lab host reaches the machine's DNS server through the bridge, but no answer finds its way back (the lab's
 * addresses are not routed outside), so every lookup waits out the resolver's timeouts: 10 s each here. glusterd
 * resolves its peers' addresses many times while a pool forms and a volume is created (efs-storage spent minutes
 * in it). Refusing DNS to those servers inside the namespace makes a lookup fail at once, as it would on a host
 * whose DNS has no name for the address.
 */
function refuseMachineDns(netns: string): void {
  for (const server of nameservers()) {
    for (const [proto, reject] of [['udp', 'icmp-port-unreachable'], ['tcp', 'tcp-reset']] as const) {
      execFileSync('ip', ['netns', 'exec', netns, 'iptables', '-A', 'OUTPUT', '-d', server, '-p', proto, '--dport', '53', '-j', 'REJECT', '--reject-with', reject], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  }
}

export function createHostLab(count: number): HostLab {
  const tag = randomBytes(2).toString('hex');
  const net = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]}`;
  const bridge = `blab${tag}`;
  const gateway = `${net}.1`;
  const hosts: { netns: string; address: string }[] = [];
  const lab: HostLab = {
    gateway,
    hosts,
    destroy() {
      for (const h of hosts) {
        try {
          ip('netns', 'delete', h.netns);
        } catch {
          // already gone
        }
      }
      try {
        ip('link', 'delete', bridge);
      } catch {
        // already gone
      }
    },
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 1; i <= count; i++) {
      const netns = `bhost-${tag}-${i}`;
      const address = `${net}.${10 + i}`;
      const outside = `vl${tag}${i}`;
      ip('netns', 'add', netns);
      hosts.push({ netns, address });
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      ip('link', 'set', outside, 'master', bridge, 'up');
      ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', netns, 'link', 'set', 'eth0', 'up');
      ip('-n', netns, 'link', 'set', 'lo', 'up');
      ip('-n', netns, 'route', 'add', 'default', 'via', gateway);
      refuseMachineDns(netns);
    }
  } catch (error) {
    lab.destroy();
    throw error;
  }
  return lab;
}
