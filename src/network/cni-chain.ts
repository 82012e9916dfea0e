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
 * Stops at the first failure, as libcni does: the plugins before it in the list keep their state until a
 * retry (DEL is idempotent) — so the address is not released, and handed to another task, while port
 * rules forwarding to it remain.
 */
export async function delNetwork(
  exec: PluginExec,
  list: NetworkConfigList,
  target: InvocationTarget,
  runtimeConfig: RuntimeConfig,
  cached: CniResult | undefined,
): Promise<void> {
  for (const plugin of [...list.plugins].reverse()) {
    await exec(plugin.type, 'DEL', target, pluginInput(list, plugin, cached, runtimeConfig));
  }
}
