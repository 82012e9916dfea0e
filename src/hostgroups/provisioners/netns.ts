import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostProvisioner, HostRequest } from './provisioner.js';

const run = promisify(execFile);

/**
 * The built-in `netns` provisioner: a simulated host on this machine, for labs and tests. Each host is a network
 * namespace (`berth-<instance id>`) joined by a veth pair to one bridge in the root namespace that carries the
 * gateway address (`.1` of the subnet), with its own address and a default route through the gateway, and its own
 * `berth agent` process (started detached: a server restart leaves its hosts running) with the host's ecs.config,
 * data directory and log under `<dir>/<instance id>/`. The agent reaches the server at the gateway address, so
 * the server must listen there (or on 0.0.0.0).
 *
 *   create:    bridge (once) → address (smallest free, recorded in the host's directory) → netns, veth, routes
 *              → ecs.config written → agent started (pid recorded). Each step checks first: a repeated create
 *              of the same instance finishes what an interrupted one began.
 *   terminate: agent stopped (SIGTERM, then SIGKILL after 15 s) → netns deleted (its veth goes with it) → the
 *              host's directory removed.
 *
 * The agents sign with the credentials given here: the server's are an IAM user's with AmazonEC2ContainerServiceforEC2Role
 * (server/host-credentials.ts), as an instance profile would give an EC2 host. Containers an agent started are not
 * stopped by terminate.
 */
export interface NetnsProvisionerOptions {
  /** Where each host's directory goes. */
  readonly dir: string;
  /** A /24 for the hosts, `A.B.C.0/24`: the bridge takes `.1`, hosts `.10`–`.250`. */
  readonly subnet: string;
  /** The bridge's name (at most 15 characters). */
  readonly bridge: string;
  /** The server's port as the hosts reach it at the gateway (known once it listens). */
  readonly serverPort: () => number;
  /** How to run `berth agent`: the program and the arguments before `agent` (default: this process's node and CLI). */
  readonly agentCommand?: readonly string[];
  /** The keys its agents sign with (asked at each create; the server's are an IAM user's with the ECS instance role policy). */
  readonly credentials: () => Promise<{ readonly accessKeyId: string; readonly secretAccessKey: string }>;
  readonly region: string;
}


const ip = (...args: string[]) => run('ip', args);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export function netnsProvisioner(options: NetnsProvisionerOptions): HostProvisioner {
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.0\/24$/.exec(options.subnet);
  if (!m) throw new Error(`netns provisioner: subnet '${options.subnet}' is not A.B.C.0/24`);
  const prefix = m[1]!;
  const gateway = `${prefix}.1`;
  let queue: Promise<unknown> = Promise.resolve();
  /** One create at a time: address choice reads what the others recorded. */
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const hostDir = (id: string) => join(options.dir, id);
  const netnsOf = (id: string) => `berth-${id}`;

  async function ensureBridge(): Promise<void> {
    if (existsSync(`/sys/class/net/${options.bridge}`)) return;
    await ip('link', 'add', options.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${gateway}/24`, 'dev', options.bridge);
    await ip('link', 'set', options.bridge, 'up');
  }

  function addressOf(id: string): string {
    const file = join(hostDir(id), 'address');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const used = new Set(
      existsSync(options.dir) ? readdirSync(options.dir).flatMap((d) => (existsSync(join(options.dir, d, 'address')) ? [readFileSync(join(options.dir, d, 'address'), 'utf8').trim()] : [])) : [],
    );
    for (let n = 10; n <= 250; n++) {
      const address = `${prefix}.${n}`;
      if (!used.has(address)) {
        writeFileSync(file, address);
        return address;
      }
    }
    throw new Error(`netns provisioner: no free address left in ${options.subnet}`);
  }

  async function ensureNamespace(id: string, address: string): Promise<void> {
    const ns = netnsOf(id);
    if (existsSync(`/var/run/netns/${ns}`)) return;
    const outside = `bh${id.slice(-10)}`;
    await ip('netns', 'add', ns);
    await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('link', 'set', outside, 'master', options.bridge, 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'route', 'add', 'default', 'via', gateway);
  }

  function startAgent(host: HostRequest, address: string, credentials: { accessKeyId: string; secretAccessKey: string }): void {
    const dir = hostDir(host.instanceId);
    const pidFile = join(dir, 'agent.pid');
    if (existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')))) return;
    writeFileSync(join(dir, 'ecs.config'), host.ecsConfig);
    mkdirSync(join(dir, 'data'), { recursive: true });
    // The server's own node flags (execArgv: the `berth` shebang's) go to the agent too, as `berth agent` run by hand
    // gets them; not a debugger's, whose port the server holds.
    const nodeFlags = process.execArgv.filter((flag) => !flag.startsWith('--inspect'));
    const [program, ...before] = options.agentCommand ?? [process.execPath, ...nodeFlags, process.argv[1]!];
    const log = openSync(join(dir, 'agent.log'), 'a');
    // nsenter joins only the network namespace (`ip netns exec` would remount /sys and hide the cgroups runc needs).
    const child = spawn('nsenter', [`--net=/var/run/netns/${netnsOf(host.instanceId)}`, '--', program!, ...before, 'agent', '--config', join(dir, 'ecs.config'), '--data-dir', join(dir, 'data')], {
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: process.env.HOME ?? '/root',
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_DEFAULT_REGION: options.region,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        BERTH_HOST_ADDRESS: address,
      },
    });
    closeSync(log);
    child.unref();
    writeFileSync(pidFile, String(child.pid));
  }

  async function stopAgent(id: string): Promise<void> {
    const pidFile = join(hostDir(id), 'agent.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (!alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }

  return {
    // `http://<gateway>:<port>`: the ECS_BACKEND_HOST of its hosts.
    backendHost: () => `http://${gateway}:${options.serverPort()}`,
    create: (host) =>
      serialized(async () => {
        mkdirSync(hostDir(host.instanceId), { recursive: true });
        await ensureBridge();
        const address = addressOf(host.instanceId);
        await ensureNamespace(host.instanceId, address);
        startAgent(host, address, await options.credentials());
      }),
    async terminate(instanceId) {
      await stopAgent(instanceId);
      if (existsSync(`/var/run/netns/${netnsOf(instanceId)}`)) await ip('netns', 'delete', netnsOf(instanceId));
      rmSync(hostDir(instanceId), { recursive: true, force: true });
    },
  };
}
