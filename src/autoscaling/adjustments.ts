/**
 * How a scaling policy turns an alarm into a new capacity, as Application Auto Scaling documents it ("Step scaling
 * policies", "Target tracking scaling policies", cooldowns): pure, so the scaling engine only reads, decides and
 * writes.
 */
import type { ScalableTargetRecord, StepAdjustment, StepScalingConfig, TargetTrackingConfig } from '../state/records/autoscaling.js';

/** The step whose interval holds `metric − threshold`: lower bound inclusive above the threshold, upper bound inclusive below it. */
export function matchingStep(steps: readonly StepAdjustment[], metric: number, threshold: number): StepAdjustment | undefined {
  const delta = metric - threshold;
  return steps.find((s) => {
    const lo = s.MetricIntervalLowerBound ?? -Infinity;
    const hi = s.MetricIntervalUpperBound ?? Infinity;
    // At the threshold itself (an alarm breaching with ≥ or ≤) either bound holds it.
    if (delta === 0) return lo <= 0 && 0 <= hi;
    return delta > 0 ? delta >= lo && delta < hi : delta > lo && delta <= hi;
  });
}

/**
 * The capacity a step asks for from `base`: ChangeInCapacity adds, ExactCapacity sets, PercentChangeInCapacity adds
 * the percentage (a change below 1 in magnitude rounds to ±1, larger ones round toward zero), at least
 * MinAdjustmentMagnitude when given.
 */
export function stepCapacity(config: StepScalingConfig, step: StepAdjustment, base: number): number {
  const adj = step.ScalingAdjustment;
  switch (config.AdjustmentType ?? 'ChangeInCapacity') {
    case 'ExactCapacity':
      return adj;
    case 'ChangeInCapacity':
      return base + adj;
    case 'PercentChangeInCapacity': {
      const raw = (base * adj) / 100;
      let change = Math.abs(raw) < 1 ? Math.sign(raw) : Math.trunc(raw);
      const floor = config.MinAdjustmentMagnitude;
      if (floor !== undefined && Math.abs(change) < floor) change = Math.sign(adj) * floor;
      return base + change;
    }
  }
}

/** Target tracking's proportional capacity: enough that the metric, spread over it, is at most the target. */
export function trackedCapacity(current: number, metric: number, target: number): number {
  // From zero, a metric that does not fall with capacity (a queue's depth) still asks for one task.
  const base = Math.max(current, 1);
  return Math.max(0, Math.ceil((base * metric) / target - 1e-9));
}

export const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));

/** A decision: the capacity to set, or why not (AWS's NotScaledReasons codes). */
export type Decision = { readonly scale: true; readonly to: number; readonly direction: 'out' | 'in' } | { readonly scale: false; readonly reason: string };

/**
 * The new capacity a policy triggered by an alarm asks for, with cooldowns applied. A scale-out inside the
 * scale-out cooldown is computed from the capacity before the scale-out that started it and applies only when
 * larger (so one burst of alarms does not compound); a scale-in waits for its cooldown. Suspended directions do not
 * scale; the result stays within min/max.
 */
export function decide(args: {
  readonly target: ScalableTargetRecord;
  readonly current: number;
  readonly now: number;
  /** The capacity the policy asks for, from a base capacity (the current one, or the one before a scale-out in cooldown). */
  readonly wanted: (base: number) => number | undefined;
  readonly scaleOutCooldownS: number;
  readonly scaleInCooldownS: number;
  readonly disableScaleIn?: boolean;
}): Decision {
  const { target, current, now } = args;
  const out = target.lastScaleOut;
  const inOutCooldown = out !== undefined && now < out.at + args.scaleOutCooldownS * 1000;
  const fromCurrent = args.wanted(current);
  if (fromCurrent === undefined) return { scale: false, reason: 'NoStepMatched' };
  const bounded = clamp(fromCurrent, target.minCapacity, target.maxCapacity);
  if (bounded > current) {
    if (target.suspended.DynamicScalingOutSuspended) return { scale: false, reason: 'ScaleOutSuspended' };
    if (inOutCooldown) {
      const fromBase = clamp(args.wanted(out.from) ?? out.from, target.minCapacity, target.maxCapacity);
      if (fromBase <= current) return { scale: false, reason: 'ScaleOutCooldown' };
      return { scale: true, to: fromBase, direction: 'out' };
    }
    return { scale: true, to: bounded, direction: 'out' };
  }
  if (bounded < current) {
    if (args.disableScaleIn) return { scale: false, reason: 'ScaleInDisabled' };
    if (target.suspended.DynamicScalingInSuspended) return { scale: false, reason: 'ScaleInSuspended' };
    const last = target.lastScaleIn;
    if (last !== undefined && now < last.at + args.scaleInCooldownS * 1000) return { scale: false, reason: 'ScaleInCooldown' };
    // A scale-out in its cooldown blocks scale-in: the capacity it added has not shown in the metric yet.
    if (inOutCooldown) return { scale: false, reason: 'ScaleOutCooldown' };
    return { scale: true, to: bounded, direction: 'in' };
  }
  return { scale: false, reason: current >= target.maxCapacity && fromCurrent > current ? 'AlreadyAtMaxCapacity' : current <= target.minCapacity && fromCurrent < current ? 'AlreadyAtMinCapacity' : 'AlreadyAtDesiredCapacity' };
}

/** Target tracking's cooldowns, 300 s each for ECS when not given (AWS's default). */
export function trackingCooldowns(c: TargetTrackingConfig): { out: number; in: number } {
  return { out: c.ScaleOutCooldown ?? 300, in: c.ScaleInCooldown ?? 300 };
}
