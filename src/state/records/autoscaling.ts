import { recordParser } from './codec.js';

/** Application Auto Scaling's suspension flags (RegisterScalableTarget's SuspendedState). */
export interface SuspendedState {
  readonly DynamicScalingInSuspended: boolean;
  readonly DynamicScalingOutSuspended: boolean;
  readonly ScheduledScalingSuspended: boolean;
}

/**
 * A scalable target: an ECS service's desired count (`service/<cluster>/<name>`, `ecs:service:DesiredCount`) with
 * its bounds. `lastScaleOut`/`lastScaleIn` are the cooldown bookkeeping of the policies that scale it: changed in
 * the same transaction as the service's desired count, so two policies firing at once cannot both pass a cooldown.
 */
export interface ScalableTargetRecord {
  readonly serviceNamespace: string;
  readonly resourceId: string;
  readonly scalableDimension: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly roleArn: string;
  readonly suspended: SuspendedState;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly createdAt: number;
  /** The last scale-out by a policy: when (epoch ms), by which policy, the capacity before it and the one it set. */
  readonly lastScaleOut?: { readonly at: number; readonly policy: string; readonly from: number; readonly to: number };
  readonly lastScaleIn?: { readonly at: number; readonly policy: string };
}

export const parseScalableTargetRecord = recordParser<ScalableTargetRecord>('scalable target', {
  serviceNamespace: 'string',
  resourceId: 'string',
  scalableDimension: 'string',
  minCapacity: 'number',
  maxCapacity: 'number',
  suspended: 'object',
  arn: 'string',
  createdAt: 'number',
});

/** A scaling policy as PutScalingPolicy gave it (the configurations in their wire shapes) and the alarms it owns. */
export interface ScalingPolicyRecord {
  readonly policyArn: string;
  readonly policyName: string;
  readonly serviceNamespace: string;
  readonly resourceId: string;
  readonly scalableDimension: string;
  readonly policyType: 'StepScaling' | 'TargetTrackingScaling';
  readonly stepScaling?: StepScalingConfig;
  readonly targetTracking?: TargetTrackingConfig;
  /** Target tracking: the alarms created for it, `{ AlarmName, AlarmARN }`. */
  readonly alarms: readonly { readonly AlarmName: string; readonly AlarmARN: string }[];
  /** Epoch ms. */
  readonly createdAt: number;
  /**
   * Per alarm, the state change (its `stateUpdatedAt`) this policy last scaled for when first invoked for it: a
   * leader that dies after scaling but before recording the alarm's actions as run invokes the policy again for
   * the same change after the restart, and that replay must not scale twice (scaling-engine.ts).
   */
  readonly scaledFor?: Readonly<Record<string, number>>;
}

export interface StepAdjustment {
  readonly MetricIntervalLowerBound?: number;
  readonly MetricIntervalUpperBound?: number;
  readonly ScalingAdjustment: number;
}

export interface StepScalingConfig {
  readonly AdjustmentType?: 'ChangeInCapacity' | 'PercentChangeInCapacity' | 'ExactCapacity';
  readonly StepAdjustments?: readonly StepAdjustment[];
  readonly MinAdjustmentMagnitude?: number;
  readonly Cooldown?: number;
  readonly MetricAggregationType?: 'Average' | 'Minimum' | 'Maximum';
}

export interface TargetTrackingConfig {
  readonly TargetValue: number;
  readonly PredefinedMetricSpecification?: { readonly PredefinedMetricType: string; readonly ResourceLabel?: string };
  readonly CustomizedMetricSpecification?: Readonly<Record<string, unknown>>;
  readonly ScaleOutCooldown?: number;
  readonly ScaleInCooldown?: number;
  readonly DisableScaleIn?: boolean;
}

export const parseScalingPolicyRecord = recordParser<ScalingPolicyRecord>('scaling policy', {
  policyArn: 'string',
  policyName: 'string',
  resourceId: 'string',
  policyType: 'string',
  alarms: 'array',
  createdAt: 'number',
});

/** The ARN index of policies: alarm actions name a policy by its ARN. */
export interface PolicyArnRecord {
  readonly key: string;
}

export const parsePolicyArnRecord = recordParser<PolicyArnRecord>('scaling policy ARN', { key: 'string' });

/** A scheduled action, with the bookkeeping of its runs. */
export interface ScheduledActionRecord {
  readonly scheduledActionName: string;
  readonly scheduledActionArn: string;
  readonly serviceNamespace: string;
  readonly resourceId: string;
  readonly scalableDimension: string;
  readonly schedule: string;
  readonly timezone?: string;
  /** Epoch ms. */
  readonly startTime?: number;
  readonly endTime?: number;
  readonly scalableTargetAction: { readonly MinCapacity?: number; readonly MaxCapacity?: number };
  readonly createdAt: number;
  /** The occurrence (epoch ms) last run: the next run is the first occurrence after it. */
  readonly lastRunFor?: number;
}

export const parseScheduledActionRecord = recordParser<ScheduledActionRecord>('scheduled action', {
  scheduledActionName: 'string',
  scheduledActionArn: 'string',
  resourceId: 'string',
  schedule: 'string',
  scalableTargetAction: 'object',
  createdAt: 'number',
});

/** One DescribeScalingActivities item, in its wire shape but for epoch-ms times. */
export interface ScalingActivityRecord {
  readonly ActivityId: string;
  readonly ServiceNamespace: string;
  readonly ResourceId: string;
  readonly ScalableDimension: string;
  readonly Description: string;
  readonly Cause: string;
  readonly StartTime: number;
  readonly EndTime?: number;
  readonly StatusCode: 'Pending' | 'InProgress' | 'Successful' | 'Overridden' | 'Unfulfilled' | 'Failed';
  readonly StatusMessage?: string;
  readonly Details?: string;
  /** A not scaled activity's reasons (shown only with IncludeNotScaledActivities). */
  readonly NotScaledReasons?: readonly NotScaledReason[];
}

/** Why a policy invocation changed nothing, in AWS's codes. */
export interface NotScaledReason {
  readonly Code: string;
  readonly MaxCapacity?: number;
  readonly MinCapacity?: number;
  readonly CurrentCapacity?: number;
}

export const parseScalingActivityRecord = recordParser<ScalingActivityRecord>('scaling activity', {
  ActivityId: 'string',
  ResourceId: 'string',
  Description: 'string',
  Cause: 'string',
  StartTime: 'number',
  StatusCode: 'string',
});
