import type { Service } from '@aws-sdk/client-ecs';
import type { Wire } from '../../model/wire.js';
import { isBuiltInCapacityProvider } from '../../model/capacity-provider.js';
import { fargateLaunchFor } from '../../model/fargate-launch.js';
import type { FargateProvider } from '../../model/fargate-pool.js';
import { activeGroupProvider, groupInstanceIds, storeReader } from '../../state/capacity-providers.js';
import { launchTasksInTx, type LaunchSpec, type TaskWriteContext } from '../../state/task-launch.js';
import type { Store } from '../../store/store.js';
import type { Tx } from '../../store/transact.js';
import { requestFor } from './placement.js';
import type { ProviderLaunchPlan, TaskDefinitionFacts } from './state.js';

/**
 * A service with a capacity provider strategy or the FARGATE launch type (launch-plan.ts splits its launches by
 * provider): each host group provider's hosts for the planner, and the launches written — Fargate's on the pool hosts
 * placement chose; a host group's placed ones on their instances, the rest waiting for room on the provider's group
 * (state/capacity-waits.ts), with the service's placement to place them by.
 */

/**
 * Each host group's provider the service may launch on — its strategy's, its deployments' and its task sets' — → the
 * EC2 instance ids of its group (empty for one gone). Undefined when there is none (FARGATE and FARGATE_SPOT run on
 * the cluster's Fargate pool instead).
 */
export async function readProviderHosts(store: Store, service: Wire<Service>): Promise<Map<string, Set<string>> | undefined> {
  const names = new Set(
    [service, ...(service.deployments ?? []), ...(service.taskSets ?? [])]
      .flatMap((d) => d.capacityProviderStrategy ?? [])
      .map((i) => i.capacityProvider ?? '')
      .filter((name) => !isBuiltInCapacityProvider(name)),
  );
  if (names.size === 0) return undefined;
  const reader = storeReader(store);
  const hosts = new Map<string, Set<string>>();
  for (const name of names) {
    const provider = await activeGroupProvider(reader, name);
    hosts.set(name, provider ? await groupInstanceIds(reader, provider) : new Set());
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
    if (isBuiltInCapacityProvider(l.provider)) {
      // FARGATE / FARGATE_SPOT: on the pool hosts chosen; one that lost its room meanwhile is tried by the next pass.
      const { created } = await launchTasksInTx(ctx, tx, { ...spec, fargate: fargateLaunchFor(l.provider as FargateProvider, spec.td) }, l.instanceIds);
      started.push(...created.map((t) => t.id));
      continue;
    }
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
