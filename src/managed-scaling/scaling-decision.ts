import { isTerminating, type HostGroupRecord, type HostInstanceRecord } from '../state/records/host-groups.js';
import { capacityForTarget } from './reservation.js';

/**
 * What managed scaling does to a group after computing CapacityProviderReservation (pure; the controller applies it
 * in one transaction on the group's record). ECS drives the group with a target-tracking policy on the metric; berth
 * decides the same outcome directly:
 *
 *   target = ceil(M × 100 / targetCapacity), within the group's MinSize and MaxSize
 *   target > desired  → scale out at once (ECS's AlarmHigh fires on one minute's datapoint) by
 *                       target − desired held within [minimumScalingStepSize, maximumScalingStepSize]
 *   target < desired  → scale in, but only once the metric has stayed low for `scaleInAfterMs` (ECS's AlarmLow
 *                       wants 15 datapoints of a minute), never while an instance is warming up, at most half the
 *                       group per step (ECS's scale-in step limit) and never an instance running tasks: a desired
 *                       capacity above the instances there are is lowered first, then empty InService instances
 *                       are named for termination (newest first)
 *
 * Warm-up (instanceWarmupPeriod): an instance still Pending or launched less than the period ago is warming. It
 * counts in the desired capacity the target is compared with (so waiting tasks it will absorb do not launch
 * another), but not in N, and no scale-in happens while one warms.
 */

export interface ScalingSettings {
  readonly targetCapacity: number;
  readonly minimumScalingStepSize: number;
  readonly maximumScalingStepSize: number;
  readonly instanceWarmupPeriod: number;
}

export interface DecisionView {
  readonly now: number;
  /** M from the reservation. */
  readonly needed: number;
  /** Since when the target has been below the desired capacity without a break (undefined: it is not). */
  readonly lowSince: number | undefined;
  readonly scaleInAfterMs: number;
  /** Whether the instance (EC2 id) runs tasks other than daemon tasks. */
  readonly busy: (instanceId: string) => boolean;
}

export type ScalingDecision =
  | { readonly kind: 'hold'; readonly target: number; readonly why: string }
  | { readonly kind: 'scale-out'; readonly target: number; readonly to: number }
  | { readonly kind: 'lower-desired'; readonly target: number; readonly to: number }
  | { readonly kind: 'scale-in'; readonly target: number; readonly to: number; readonly instanceIds: readonly string[] };

export const isWarming = (i: HostInstanceRecord, now: number, warmupS: number) =>
  i.lifecycleState === 'Pending' || (i.lifecycleState === 'InService' && now - i.launchedAt < warmupS * 1000);

export function decideScaling(group: HostGroupRecord, settings: ScalingSettings, view: DecisionView): ScalingDecision {
  const desired = group.desiredCapacity;
  const wanted = capacityForTarget(view.needed, settings.targetCapacity);
  const target = Math.min(group.maxSize, Math.max(group.minSize, wanted));
  if (target > desired) {
    const step = Math.min(settings.maximumScalingStepSize, Math.max(settings.minimumScalingStepSize, target - desired));
    const to = Math.min(group.maxSize, desired + step);
    return to > desired ? { kind: 'scale-out', target, to } : { kind: 'hold', target, why: 'at MaxSize' };
  }
  if (target === desired) return { kind: 'hold', target, why: wanted > group.maxSize ? 'at MaxSize' : 'at target' };
  const live = group.instances.filter((i) => !isTerminating(i.lifecycleState));
  if (live.some((i) => isWarming(i, view.now, settings.instanceWarmupPeriod))) return { kind: 'hold', target, why: 'an instance is warming up' };
  if (view.lowSince === undefined || view.now - view.lowSince < view.scaleInAfterMs) return { kind: 'hold', target, why: 'waiting for the scale-in period' };
  const count = Math.min(desired - target, Math.max(1, Math.floor(desired / 2)));
  if (desired > live.length) return { kind: 'lower-desired', target, to: Math.max(desired - count, live.length, target) };
  const empty = live
    .filter((i) => i.lifecycleState === 'InService' && !view.busy(i.instanceId))
    .sort((a, b) => b.launchedAt - a.launchedAt)
    .slice(0, count);
  if (empty.length === 0) return { kind: 'hold', target, why: 'every instance runs tasks' };
  return { kind: 'scale-in', target, to: desired - empty.length, instanceIds: empty.map((i) => i.instanceId) };
}

/**
 * Managed termination protection: InService instances running tasks (daemon tasks aside) are protected from scale-in,
 * empty ones are not — the instances whose protection must change. Pending ones keep what the group gave them.
 */
export function protectionChanges(group: HostGroupRecord, busy: (instanceId: string) => boolean): { instanceId: string; protect: boolean }[] {
  const out: { instanceId: string; protect: boolean }[] = [];
  for (const i of group.instances) {
    if (i.lifecycleState !== 'InService') continue;
    const protect = busy(i.instanceId);
    if (protect !== i.protectedFromScaleIn) out.push({ instanceId: i.instanceId, protect });
  }
  return out;
}
