import { describe, expect, it } from 'vitest';
import type { ScalableTargetRecord } from '../state/records/autoscaling.js';
import { decide, matchingStep, stepCapacity, trackedCapacity } from './adjustments.js';

const steps = [
  { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 10, ScalingAdjustment: 1 },
  { MetricIntervalLowerBound: 10, MetricIntervalUpperBound: 20, ScalingAdjustment: 2 },
  { MetricIntervalLowerBound: 20, ScalingAdjustment: 3 },
];
const target: ScalableTargetRecord = {
  serviceNamespace: 'ecs',
  resourceId: 'service/c/s',
  scalableDimension: 'ecs:service:DesiredCount',
  minCapacity: 1,
  maxCapacity: 6,
  roleArn: '',
  suspended: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
  arn: '',
  tags: {},
  createdAt: 0,
};

describe('step scaling', () => {
  it('matches steps by the breach above the threshold (lower bound inclusive)', () => {
    expect(matchingStep(steps, 100, 100)?.ScalingAdjustment).toBe(1);
    expect(matchingStep(steps, 110, 100)?.ScalingAdjustment).toBe(2);
    expect(matchingStep(steps, 125, 100)?.ScalingAdjustment).toBe(3);
    expect(matchingStep(steps, 90, 100)).toBeUndefined();
  });
  it('matches below the threshold with the upper bound inclusive', () => {
    const down = [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -1 }];
    expect(matchingStep(down, 5, 5)?.ScalingAdjustment).toBe(-1);
    expect(matchingStep(down, 6, 5)).toBeUndefined();
  });
  it('adjustment types', () => {
    expect(stepCapacity({ AdjustmentType: 'ChangeInCapacity' }, { ScalingAdjustment: 2 }, 3)).toBe(5);
    expect(stepCapacity({ AdjustmentType: 'ExactCapacity' }, { ScalingAdjustment: 2 }, 3)).toBe(2);
    expect(stepCapacity({ AdjustmentType: 'PercentChangeInCapacity' }, { ScalingAdjustment: 50 }, 5)).toBe(7);
    expect(stepCapacity({ AdjustmentType: 'PercentChangeInCapacity' }, { ScalingAdjustment: 10 }, 3)).toBe(4);
    expect(stepCapacity({ AdjustmentType: 'PercentChangeInCapacity' }, { ScalingAdjustment: -50 }, 5)).toBe(3);
    expect(stepCapacity({ AdjustmentType: 'PercentChangeInCapacity', MinAdjustmentMagnitude: 3 }, { ScalingAdjustment: 20 }, 5)).toBe(8);
  });
});

describe('target tracking capacity', () => {
  it('is proportional and rounds up', () => {
    expect(trackedCapacity(2, 100, 50)).toBe(4);
    expect(trackedCapacity(4, 30, 50)).toBe(3);
    expect(trackedCapacity(3, 50, 50)).toBe(3);
    expect(trackedCapacity(0, 120, 50)).toBe(3);
  });
});

describe('decide (fake time)', () => {
  const t0 = 1_000_000;
  it('scales within min/max', () => {
    expect(decide({ target, current: 5, now: t0, wanted: (b) => b + 3, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: true, to: 6, direction: 'out' });
    expect(decide({ target, current: 2, now: t0, wanted: () => 0, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: true, to: 1, direction: 'in' });
    expect(decide({ target, current: 6, now: t0, wanted: (b) => b + 1, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: false, reason: 'AlreadyAtMaxCapacity' });
  });
  it('a scale-out in cooldown applies only when larger than the one that started it', () => {
    const t = { ...target, lastScaleOut: { at: t0, policy: 'p', from: 2, to: 3 } };
    expect(decide({ target: t, current: 3, now: t0 + 30_000, wanted: (b) => b + 1, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: false, reason: 'ScaleOutCooldown' });
    expect(decide({ target: t, current: 3, now: t0 + 30_000, wanted: (b) => b + 3, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: true, to: 5, direction: 'out' });
    expect(decide({ target: t, current: 3, now: t0 + 60_000, wanted: (b) => b + 1, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: true, to: 4, direction: 'out' });
  });
  it('scale-in waits for its cooldown and for a scale-out cooldown', () => {
    const t = { ...target, lastScaleIn: { at: t0, policy: 'p' } };
    expect(decide({ target: t, current: 4, now: t0 + 59_000, wanted: (b) => b - 1, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: false, reason: 'ScaleInCooldown' });
    expect(decide({ target: t, current: 4, now: t0 + 60_000, wanted: (b) => b - 1, scaleOutCooldownS: 60, scaleInCooldownS: 60 })).toEqual({ scale: true, to: 3, direction: 'in' });
    const o = { ...target, lastScaleOut: { at: t0, policy: 'p', from: 2, to: 4 } };
    expect(decide({ target: o, current: 4, now: t0 + 10_000, wanted: (b) => b - 1, scaleOutCooldownS: 60, scaleInCooldownS: 0 })).toEqual({ scale: false, reason: 'ScaleOutCooldown' });
  });
  it('suspended directions and DisableScaleIn do not scale', () => {
    const s = { ...target, suspended: { DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, ScheduledScalingSuspended: false } };
    expect(decide({ target: s, current: 3, now: t0, wanted: (b) => b + 1, scaleOutCooldownS: 0, scaleInCooldownS: 0 })).toEqual({ scale: false, reason: 'ScaleOutSuspended' });
    expect(decide({ target: s, current: 3, now: t0, wanted: (b) => b - 1, scaleOutCooldownS: 0, scaleInCooldownS: 0 })).toEqual({ scale: false, reason: 'ScaleInSuspended' });
    expect(decide({ target, current: 3, now: t0, wanted: (b) => b - 1, scaleOutCooldownS: 0, scaleInCooldownS: 0, disableScaleIn: true })).toEqual({ scale: false, reason: 'ScaleInDisabled' });
  });
});
