import { listAll } from '../hostgroups/records.js';
import { capacityProviderKeys } from '../state/capacity-provider-keys.js';
import { keys } from '../state/keys.js';
import { parseCapacityProvider } from '../state/records/capacity-providers.js';
import { parseClusterRecord } from '../state/records/clusters.js';
import type { Store } from '../store/store.js';
import type { ManagedProvider } from './managed-scaling-controller.js';

/**
 * The ACTIVE capacity providers of host groups as the managed-scaling controller needs them, each with the cluster
 * that lists it (ECS lets an Auto Scaling group provider serve one cluster; the first ACTIVE cluster listing it in
 * key order is taken).
 */
export async function managedProviders(store: Store): Promise<ManagedProvider[]> {
  const records = (await listAll(store, capacityProviderKeys.providers(), parseCapacityProvider)).filter((p) => p.status === 'ACTIVE');
  if (records.length === 0) return [];
  const clusterOf = new Map<string, string>();
  for (const c of await listAll(store, keys.clusters(), parseClusterRecord)) {
    if (c.status !== 'ACTIVE') continue;
    for (const p of c.capacityProviders ?? []) if (!clusterOf.has(p)) clusterOf.set(p, c.clusterName);
  }
  return records.map((p) => {
    const asg = p.autoScalingGroupProvider;
    return {
      name: p.name,
      cluster: clusterOf.get(p.name),
      groupName: asg.groupName,
      managedScaling: asg.managedScaling,
      managedTerminationProtection: asg.managedTerminationProtection,
      managedDraining: asg.managedDraining,
    };
  });
}
