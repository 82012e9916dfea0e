import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

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
    }
  } catch (error) {
    lab.destroy();
    throw error;
  }
  return lab;
}
