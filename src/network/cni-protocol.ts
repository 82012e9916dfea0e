/**
 * The CNI protocol (spec 1.0.0) as pure functions: what a plugin receives (environment and stdin) and how
 * its answer is read. Running the binaries is cni-exec.ts; running a list of plugins is cni-chain.ts.
 */
import { CniPluginError, NetworkError } from './errors.js';

export const cniCommands = ['ADD', 'DEL', 'CHECK'] as const;
export type CniCommand = (typeof cniCommands)[number];

/** The protocol version berth writes into its configurations (Debian's plugins speak 0.1.0–1.0.0). */
export const CNI_VERSION = '1.0.0';

/** One plugin's object in a network configuration list: `type` names the binary; the rest is the plugin's. */
export interface PluginConfig {
  readonly type: string;
  /** Runtime values the plugin accepts through `runtimeConfig` (e.g. `portMappings` for portmap). */
  readonly capabilities?: Readonly<Record<string, boolean>>;
  readonly [key: string]: unknown;
}

/** A network configuration list (a "conflist"): plugins run in order on ADD, in reverse on DEL. */
export interface NetworkConfigList {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly PluginConfig[];
}

/** Dynamic values for capabilities, keyed by capability name, e.g. `{ portMappings: [...] }`. */
export type RuntimeConfig = Readonly<Record<string, unknown>>;

/** A CNI result (spec §5.1). Plugins may add members; berth reads only these. */
export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces?: readonly { readonly name: string; readonly mac?: string; readonly sandbox?: string }[];
  readonly ips?: readonly { readonly interface?: number; readonly address: string; readonly gateway?: string }[];
  readonly routes?: readonly { readonly dst: string; readonly gw?: string }[];
  readonly dns?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** Which container and interface an invocation is about. */
export interface InvocationTarget {
  readonly containerId: string;
  /** Path of the network namespace (may no longer exist on DEL; plugins tolerate that). */
  readonly netnsPath: string;
  readonly ifName: string;
}

/**
 * CNI_CONTAINERID rules (spec §2): starts with an alphanumeric, then alphanumerics, `_`, `.` and `-`.
 * berth also bounds the length so that `<prefix><id>` stays a valid file name.
 */
export const CONTAINER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

/**
 * PATH for the tools berth and the plugins run (`ip`, `iptables`): the agent's own PATH may lack sbin.
 * Plugins find IPAM plugins through CNI_PATH, not PATH.
 */
export const TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment of one plugin process: only the CNI variables and PATH, nothing of the agent's own. */
export function pluginEnv(command: CniCommand, target: InvocationTarget, pluginDirs: readonly string[]): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: target.containerId,
    CNI_NETNS: target.netnsPath,
    CNI_IFNAME: target.ifName,
    CNI_PATH: pluginDirs.join(':'),
    PATH: TOOL_PATH,
  };
}

/**
 * A plugin's stdin, as libcni builds it: the plugin object plus the list's `name` and `cniVersion`, the
 * previous result in the chain (on DEL and CHECK the cached result of the whole ADD), and `runtimeConfig`
 * holding only the capabilities this plugin declares.
 */
export function pluginInput(
  list: NetworkConfigList,
  plugin: PluginConfig,
  prevResult: CniResult | undefined,
  runtimeConfig: RuntimeConfig,
): string {
  const config: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const wanted = Object.entries(plugin.capabilities ?? {}).filter(([name, on]) => on && name in runtimeConfig);
  if (wanted.length > 0) config.runtimeConfig = Object.fromEntries(wanted.map(([name]) => [name, runtimeConfig[name]]));
  if (prevResult !== undefined) config.prevResult = prevResult;
  return JSON.stringify(config);
}

/** Read a successful ADD's stdout: a result object, or a CniPluginError saying why it is not one. */
export function parseResult(plugin: string, command: CniCommand, stdout: string): CniResult {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch (error) {
    throw new CniPluginError(plugin, command, undefined, `answered with something that is not JSON: ${excerpt(stdout)}`, undefined, { cause: error });
  }
  const problem = resultProblem(value);
  if (problem) throw new CniPluginError(plugin, command, undefined, `answered with an invalid result (${problem}): ${excerpt(stdout)}`, undefined);
  return value as CniResult;
}

/**
 * The error of a plugin that exited non-zero: its CNI error object from stdout (spec §6) when it wrote
 * one, else whatever it printed on stderr.
 */
export function parseFailure(plugin: string, command: CniCommand, exit: string, stdout: string, stderr: string): CniPluginError {
  try {
    const e = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e === 'object' && e !== null && typeof e.msg === 'string') {
      return new CniPluginError(
        plugin,
        command,
        typeof e.code === 'number' ? e.code : undefined,
        e.msg,
        typeof e.details === 'string' && e.details !== '' ? e.details : undefined,
      );
    }
  } catch {
    // Not a CNI error object: fall back to the raw output below.
  }
  const text = (stderr.trim() || stdout.trim() || 'no output').split('\n').slice(-5).join(' | ');
  return new CniPluginError(plugin, command, undefined, `${exit}: ${excerpt(text)}`, undefined);
}

/** The IPv4 address (without prefix length), gateway and MAC of interface `ifName` inside `netnsPath`. */
export function sandboxAddress(
  result: CniResult,
  ifName: string,
  netnsPath: string,
): { ipv4Address?: string; gateway?: string; macAddress?: string } {
  const index = (result.interfaces ?? []).findIndex((i) => i.name === ifName && i.sandbox === netnsPath);
  const iface = index >= 0 ? result.interfaces![index] : undefined;
  const ip = (result.ips ?? []).find((i) => (index < 0 || i.interface === index) && !i.address.includes(':'));
  return {
    ...(ip ? { ipv4Address: ip.address.split('/')[0]! } : {}),
    ...(ip?.gateway ? { gateway: ip.gateway } : {}),
    ...(iface?.mac ? { macAddress: iface.mac } : {}),
  };
}

/** Check a network configuration list berth is about to run (it comes from berth's own code or its cache). */
export function assertConfigList(value: unknown, what: string): asserts value is NetworkConfigList {
  const list = value as Partial<NetworkConfigList> | null;
  const ok =
    typeof list === 'object' &&
    list !== null &&
    typeof list.cniVersion === 'string' &&
    typeof list.name === 'string' &&
    Array.isArray(list.plugins) &&
    list.plugins.every((p) => typeof p === 'object' && p !== null && typeof p.type === 'string' && /^[A-Za-z0-9_.-]+$/.test(p.type));
  if (!ok) throw new NetworkError('state-unreadable', `${what} is not a valid CNI network configuration list`);
}

function resultProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const r = value as Record<string, unknown>;
  if (typeof r.cniVersion !== 'string') return 'no cniVersion';
  for (const key of ['interfaces', 'ips', 'routes'] as const) {
    if (r[key] !== undefined && !Array.isArray(r[key])) return `${key} is not a list`;
  }
  if (Array.isArray(r.ips) && !r.ips.every((ip) => typeof (ip as { address?: unknown })?.address === 'string')) {
    return 'an ips entry has no address';
  }
  if (Array.isArray(r.interfaces) && !r.interfaces.every((i) => typeof (i as { name?: unknown })?.name === 'string')) {
    return 'an interfaces entry has no name';
  }
  return undefined;
}

const excerpt = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…` : text);
