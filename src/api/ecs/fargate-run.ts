import { splitByStrategy, type StrategyItem } from '../../model/capacity-strategy.js';
import { fargateLaunchFor, fargateShares, type FargateLaunch } from '../../model/fargate-launch.js';
import { afterPlacements, planSpotInterruptions } from '../../model/spot-interruption.js';
import type { TaskNeeds } from '../../model/task.js';
import { place, type InstanceSnapshot, type PlacementRequest, type PlacementResult } from '../../scheduler/index.js';
import type { LaunchPart } from '../../state/launch-batcher.js';
import { interruptSpotTasksInTx, poolHostsOf } from '../../state/spot-interruption.js';
import type { LaunchSpec } from '../../state/task-launch.js';
import { transact } from '../../store/transact.js';
import type { EcsEnv } from './env.js';

/**
 * RunTask on the Fargate pool: the call's tasks are split over its FARGATE/FARGATE_SPOT strategy with ECS's base and
 * weight arithmetic (model/capacity-strategy.ts, the split a Fargate service's launches use), one placement over the
 * pool hosts places them all, on-demand FARGATE tasks first; those that find no room interrupt FARGATE_SPOT tasks
 * for it (model/spot-interruption.ts) and are placed again. Returns the launch parts — one per provider, each with
 * its own `capacityProviderName` — and the placement's outcome for the failures of tasks left unplaced.
 */
export async function planFargateRun(
  env: EcsEnv,
  cluster: string,
  strategy: readonly StrategyItem[],
  spec: LaunchSpec & { readonly fargate: FargateLaunch },
  request: PlacementRequest,
): Promise<{ parts: LaunchPart[]; plan: PlacementResult }> {
  const split = splitByStrategy(strategy, request.count);
  let pool = env.cache.snapshot(cluster, 'fargate');
  let plan = place(pool, request, Math.random);
  const missing = fargateShares(split, plan.placements).find((s) => s.provider === 'FARGATE')?.missing ?? 0;
  if (missing > 0 && (await interruptForRoom(env, cluster, pool, plan.placements, spec.needs, missing))) {
    await env.cache.catchUp();
    pool = env.cache.snapshot(cluster, 'fargate');
    plan = place(pool, request, Math.random);
  }
  const parts = fargateShares(split, plan.placements)
    .filter((s) => s.instanceIds.length > 0)
    .map((s) => ({ spec: { ...spec, fargate: fargateLaunchFor(s.provider, spec.td) }, instanceIds: s.instanceIds }));
  return { parts, plan };
}

/** Interrupt FARGATE_SPOT tasks for `missing` on-demand tasks, in one transaction; true when any was interrupted. */
async function interruptForRoom(
  env: EcsEnv,
  cluster: string,
  pool: readonly InstanceSnapshot[],
  placements: readonly string[],
  needs: TaskNeeds,
  missing: number,
): Promise<boolean> {
  const hosts = afterPlacements(poolHostsOf(pool, (id) => env.cache.task(cluster, id)), placements, needs);
  const chosen = planSpotInterruptions(hosts, needs, missing);
  if (chosen.length === 0) return false;
  const interrupted = await transact(env.store, async (tx) => {
    const out: string[] = [];
    for (const c of chosen) out.push(...(await interruptSpotTasksInTx(env, tx, cluster, c.instanceId, c.taskIds)));
    return out;
  });
  return interrupted.length > 0;
}
