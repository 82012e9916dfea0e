import type { Service } from '@aws-sdk/client-ecs';
import type { Wire } from '../../model/wire.js';
import { activeGroupProvider, groupInstanceIds, storeReader } from '../../state/capacity-providers.js';
import { launchTasksInTx, type LaunchSpec, type TaskWriteContext } from '../../state/task-launch.js';
import type { Store } from '../../store/store.js';
import type { Tx } from '../../store/transact.js';
import { requestFor } from './placement.js';
import type { ProviderLaunchPlan, TaskDefinitionFacts } from './state.js';

/**
 * A service with a capacity provider strategy (replica.ts splits its launches by provider): each provider's hosts
 * for the planner, and the launches written — placed ones on their instances, the rest waiting for room on the
 * provider's group (state/capacity-waits.ts), with the service's placement to place them by.
 */

/** Each provider of the service's strategy → the EC2 instance ids of its group (empty for one gone). */
export async function readProviderHosts(store: Store, service: Wire<Service>): Promise<Map<string, Set<string>> | undefined> {
  const strategy = service.capacityProviderStrategy ?? [];
  if (strategy.length === 0) return undefined;
  const reader = storeReader(store);
  const hosts = new Map<string, Set<string>>();
  for (const item of strategy) {
    const provider = await activeGroupProvider(reader, item.capacityProvider ?? '');
    hosts.set(item.capacityProvider ?? '', provider ? await groupInstanceIds(reader, provider) : new Set());
  }
  return hosts;
}

/** In the commit's transaction: the provider launches of a pass; the ids of the tasks created. */
export async function launchOnProvidersInTx(
  ctx: TaskWriteContext,
  tx: Tx,
  spec: LaunchSpec,
  service: Wire<Service>,
  facts: TaskDefinitionFacts,
  launches: readonly ProviderLaunchPlan[],
): Promise<string[]> {
  const request = requestFor(service, facts, 1);
  const started: string[] = [];
  for (const l of launches) {
    const placement = {
      capacityProvider: l.provider,
      since: ctx.now(),
      constraints: request.constraints ?? [],
      strategies: request.strategies ?? [],
      requiredAttributes: request.requiredAttributes ?? [],
    };
    const { created } = await launchTasksInTx(ctx, tx, { ...spec, capacityProvider: { name: l.provider, waiting: l.waiting, placement } }, l.instanceIds);
    started.push(...created.map((t) => t.id));
  }
  return started;
}
