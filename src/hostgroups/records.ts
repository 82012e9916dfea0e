import { hostGroupKeys } from '../state/host-group-keys.js';
import { parseHostGroup, parseLaunchConfiguration, type HostGroupRecord, type LaunchConfigurationRecord } from '../state/records/host-groups.js';
import { rangePages } from '../store/range-pages.js';
import type { Store } from '../store/store.js';
import type { Tx } from '../store/transact.js';
import { hostGroupErrors } from './errors.js';

/** Reading host groups' records in a transaction, or all of a kind for a listing. */

export async function groupNamed(tx: Tx, name: string): Promise<HostGroupRecord> {
  const group = await tx.getRecord(parseHostGroup, hostGroupKeys.group(name));
  if (!group) throw hostGroupErrors.groupNotFound(name);
  return group;
}

export async function launchConfigurationNamed(tx: Tx, name: string): Promise<LaunchConfigurationRecord> {
  const lc = await tx.getRecord(parseLaunchConfiguration, hostGroupKeys.launchConfiguration(name));
  if (!lc) throw hostGroupErrors.launchConfigurationNotFound(name);
  return lc;
}

/** Every record under `prefix`, parsed, in key order. */
export async function listAll<T>(store: Store, prefix: string, parse: (value: string, key: string) => T): Promise<T[]> {
  const out: T[] = [];
  for await (const page of rangePages(store, prefix, 500)) for (const e of page) out.push(parse(e.value, e.key));
  return out;
}

export const allGroups = (store: Store) => listAll(store, hostGroupKeys.groups(), parseHostGroup);
