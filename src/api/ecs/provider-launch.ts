import { splitByStrategy, type StrategyItem } from '../../model/capacity-strategy.js';
import { place, type PlacementRequest } from '../../scheduler/index.js';
import { activeGroupProvider, groupInstanceIds, storeReader } from '../../state/capacity-providers.js';
import type { Idempotency, LaunchBatcher, LaunchPart } from '../../state/launch-batcher.js';
import type { LaunchSpec } from '../../state/task-launch.js';
import type { EcsEnv } from './env.js';

/**
 * RunTask on capacity providers of Auto Scaling groups: the call's tasks are split over the strategy's providers
 * (base, then weight: model/capacity-strategy.ts); each provider's share is placed on its group's instances only,
 * and what finds no room is created waiting in PROVISIONING (state/capacity-waits.ts) — none is a failure. All of
 * it is one commit, answered again to a retry with the same client token.
 */
export async function launchOnProviders(
  env: EcsEnv,
  launcher: LaunchBatcher,
  strategy: readonly StrategyItem[],
  spec: LaunchSpec,
  request: PlacementRequest,
  token: Omit<Idempotency, 'placementFailures'> | undefined,
) {
  const reader = storeReader(env.store);
  const parts: LaunchPart[] = [];
  const placement = { constraints: request.constraints ?? [], strategies: request.strategies ?? [], requiredAttributes: request.requiredAttributes ?? [] };
  for (const [name, count] of splitByStrategy(strategy, request.count)) {
    const provider = await activeGroupProvider(reader, name);
    const ids = provider ? await groupInstanceIds(reader, provider) : new Set<string>();
    const instances = env.cache.snapshot(spec.cluster, 'ec2').filter((s) => s.ec2InstanceId !== undefined && ids.has(s.ec2InstanceId));
    const plan = place(instances, { ...request, count }, Math.random);
    parts.push({
      spec: { ...spec, capacityProvider: { name, waiting: count - plan.placements.length, placement: { capacityProvider: name, since: env.now(), ...placement } } },
      instanceIds: plan.placements,
    });
  }
  return launcher.launchAll(parts, token && { ...token, placementFailures: [] });
}
