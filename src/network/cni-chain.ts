/**
 * Running a network configuration list the way libcni does (CNI spec §4): ADD in order, each plugin
 * getting the previous one's result; DEL in reverse, each given the cached result of the whole ADD and the
 * same runtime values. (No CHECK: Debian's portmap 1.1.1 fails it for every IPv4-only container, looking
 * for an ip6tables chain it never made.)
 */
import { pluginInput, type CniResult, type InvocationTarget, type NetworkConfigList, type RuntimeConfig } from './cni-protocol.js';
import type { PluginExec } from './cni-exec.js';
import { CniPluginError } from './errors.js';

/** ADD every plugin of `list` in order; the last plugin's result is the network's result. */
export async function addNetwork(
  exec: PluginExec,
  list: NetworkConfigList,
  target: InvocationTarget,
  runtimeConfig: RuntimeConfig,
): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const plugin of list.plugins) {
    result = await exec(plugin.type, 'ADD', target, pluginInput(list, plugin, result, runtimeConfig));
  }
  if (result === undefined) throw new CniPluginError(list.name, 'ADD', undefined, 'the network has no plugins', undefined);
  return result;
}

/**
 * DEL every plugin of `list` in reverse order. `cached` is the ADD's result when it completed; after a
 * crash mid-ADD there is none, and plugins then clean up by container id and interface name alone.
 * Every plugin gets its DEL even if an earlier one failed (so one transient failure leaves as little behind
 * as possible); the first failure is thrown afterwards, and a retry is safe because DEL is idempotent.
 */
export async function delNetwork(
  exec: PluginExec,
  list: NetworkConfigList,
  target: InvocationTarget,
  runtimeConfig: RuntimeConfig,
  cached: CniResult | undefined,
): Promise<void> {
  let first: unknown;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await exec(plugin.type, 'DEL', target, pluginInput(list, plugin, cached, runtimeConfig));
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}
