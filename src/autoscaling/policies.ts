import { randomUUID } from 'node:crypto';
import { deleteAlarmsIn, writeAlarm } from '../metrics/alarms/alarm-api.js';
import { alarmConfig, type PutMetricAlarmInput } from '../metrics/alarms/alarm-config.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import {
  parseScalableTargetRecord,
  parseScalingPolicyRecord,
  type ScalingPolicyRecord,
  type StepAdjustment,
  type StepScalingConfig,
  type TargetTrackingConfig,
} from '../state/records/autoscaling.js';
import { alarmKeys, scalingKeys } from '../state/scaling-keys.js';
import { checkTarget, ECS_DESIRED_COUNT, ecsServiceOf, noTarget, objectNotFound, validation, type AutoScalingEnv } from './env.js';
import { pageList } from './paging.js';
import { policyUuid, targetKey } from './targets.js';

interface PutInput {
  PolicyName: string;
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  PolicyType?: string;
  StepScalingPolicyConfiguration?: StepScalingConfig;
  TargetTrackingScalingPolicyConfiguration?: TargetTrackingConfig;
  PredictiveScalingPolicyConfiguration?: object;
}

const policyKey = (resourceId: string, name: string) => scalingKeys.policy('ecs', ECS_DESIRED_COUNT, resourceId, name);

/** Checks step adjustments as Application Auto Scaling does: one open-ended bound each way at most, no overlap, no gap. */
function checkSteps(c: StepScalingConfig | undefined): void {
  if (!c) throw validation('StepScalingPolicyConfiguration is required for a policy of type StepScaling.');
  if (!c.AdjustmentType) throw validation('AdjustmentType is required in StepScalingPolicyConfiguration.');
  const steps = c.StepAdjustments ?? [];
  if (steps.length === 0) throw validation('StepAdjustments must contain at least one step adjustment.');
  if (c.MinAdjustmentMagnitude !== undefined && c.AdjustmentType !== 'PercentChangeInCapacity') {
    throw validation('MinAdjustmentMagnitude is only supported with the PercentChangeInCapacity adjustment type.');
  }
  const lo = (s: StepAdjustment) => s.MetricIntervalLowerBound ?? -Infinity;
  const hi = (s: StepAdjustment) => s.MetricIntervalUpperBound ?? Infinity;
  for (const s of steps) if (!(lo(s) < hi(s))) throw validation('A step adjustment\'s lower bound must be less than its upper bound.');
  const sorted = [...steps].sort((a, b) => lo(a) - lo(b));
  for (let i = 1; i < sorted.length; i++) {
    if (hi(sorted[i - 1]!) > lo(sorted[i]!)) throw validation('Step adjustments must not overlap.');
    if (hi(sorted[i - 1]!) < lo(sorted[i]!)) throw validation('Step adjustments must not have gaps between them.');
  }
  if (c.AdjustmentType === 'ExactCapacity' && steps.some((s) => s.ScalingAdjustment < 0)) throw validation('An ExactCapacity step adjustment cannot be negative.');
}

/** The metric of a target-tracking policy, as PutMetricAlarm's fields (predefined metrics as AWS maps them). */
function trackedMetric(c: TargetTrackingConfig, resourceId: string, period: number): Partial<PutMetricAlarmInput> {
  const { cluster, service } = ecsServiceOf(resourceId);
  const predefined = c.PredefinedMetricSpecification;
  const custom = c.CustomizedMetricSpecification as
    | { MetricName?: string; Namespace?: string; Dimensions?: { Name: string; Value: string }[]; Statistic?: string; Unit?: string; Metrics?: { Id: string; Expression?: string; Label?: string; ReturnData?: boolean; MetricStat?: { Metric: object; Stat: string; Unit?: string } }[] }
    | undefined;
  if ((predefined === undefined) === (custom === undefined)) throw validation('Specify exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification.');
  if (predefined) {
    const ecsDims = [
      { Name: 'ClusterName', Value: cluster },
      { Name: 'ServiceName', Value: service },
    ];
    switch (predefined.PredefinedMetricType) {
      case 'ECSServiceAverageCPUUtilization':
        return { Namespace: 'AWS/ECS', MetricName: 'CPUUtilization', Dimensions: ecsDims, Statistic: 'Average', Period: period };
      case 'ECSServiceAverageMemoryUtilization':
        return { Namespace: 'AWS/ECS', MetricName: 'MemoryUtilization', Dimensions: ecsDims, Statistic: 'Average', Period: period };
      case 'ALBRequestCountPerTarget': {
        const tg = /^app\/[^/]+\/[^/]+\/(targetgroup\/[^/]+\/[^/]+)$/.exec(predefined.ResourceLabel ?? '');
        if (!tg) throw validation('ResourceLabel is required for ALBRequestCountPerTarget: app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>.');
        return { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCountPerTarget', Dimensions: [{ Name: 'TargetGroup', Value: tg[1]! }], Statistic: 'Sum', Period: period };
      }
      default:
        throw validation(`Predefined metric type ${predefined.PredefinedMetricType} is not supported for ${ECS_DESIRED_COUNT}.`);
    }
  }
  if (custom!.Metrics) {
    if (custom!.MetricName !== undefined || custom!.Namespace !== undefined) throw validation('Specify either Metrics or MetricName/Namespace/Statistic in CustomizedMetricSpecification, not both.');
    return {
      Metrics: custom!.Metrics.map((q) => ({
        Id: q.Id,
        ...(q.Expression !== undefined ? { Expression: q.Expression } : {}),
        ...(q.Label !== undefined ? { Label: q.Label } : {}),
        ...(q.ReturnData !== undefined ? { ReturnData: q.ReturnData } : {}),
        ...(q.MetricStat ? { MetricStat: { Metric: q.MetricStat.Metric, Stat: q.MetricStat.Stat, Period: period, ...(q.MetricStat.Unit ? { Unit: q.MetricStat.Unit } : {}) } } : { Period: period }),
      })),
    };
  }
  if (!custom!.MetricName || !custom!.Namespace || !custom!.Statistic) throw validation('CustomizedMetricSpecification needs MetricName, Namespace and Statistic (or Metrics).');
  return { Namespace: custom!.Namespace, MetricName: custom!.MetricName, Dimensions: custom!.Dimensions ?? [], Statistic: custom!.Statistic, Period: period, ...(custom!.Unit ? { Unit: custom!.Unit } : {}) };
}

export function policyOut(p: ScalingPolicyRecord): object {
  return {
    PolicyARN: p.policyArn,
    PolicyName: p.policyName,
    ServiceNamespace: p.serviceNamespace,
    ResourceId: p.resourceId,
    ScalableDimension: p.scalableDimension,
    PolicyType: p.policyType,
    ...(p.stepScaling ? { StepScalingPolicyConfiguration: p.stepScaling } : {}),
    ...(p.targetTracking ? { TargetTrackingScalingPolicyConfiguration: p.targetTracking } : {}),
    Alarms: p.alarms,
    CreationTime: p.createdAt / 1000,
  };
}

export function policyOperations(env: AutoScalingEnv) {
  const period = env.targetTrackingPeriodS ?? 60;
  return {
    PutScalingPolicy: async (input: PutInput) => {
      checkTarget(input);
      const type = input.PolicyType ?? 'StepScaling';
      if (type === 'PredictiveScaling') throw validation('berth does not serve predictive scaling policies.');
      if (type !== 'StepScaling' && type !== 'TargetTrackingScaling') throw validation(`Unsupported policy type ${type}.`);
      if (type === 'StepScaling') {
        if (input.TargetTrackingScalingPolicyConfiguration) throw validation('TargetTrackingScalingPolicyConfiguration is not allowed for a policy of type StepScaling.');
        checkSteps(input.StepScalingPolicyConfiguration);
      }
      let tracked: Partial<PutMetricAlarmInput> | undefined;
      if (type === 'TargetTrackingScaling') {
        const c = input.TargetTrackingScalingPolicyConfiguration;
        if (!c) throw validation('TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling.');
        if (input.StepScalingPolicyConfiguration) throw validation('StepScalingPolicyConfiguration is not allowed for a policy of type TargetTrackingScaling.');
        if (!Number.isFinite(c.TargetValue) || c.TargetValue <= 0) throw validation('TargetValue must be a positive number.');
        tracked = trackedMetric(c, input.ResourceId, period);
      }
      const now = env.now();
      const key = policyKey(input.ResourceId, input.PolicyName);
      const record = await transact(env.store, async (tx) => {
        if (!(await tx.getRecord(parseScalableTargetRecord, targetKey(input.ResourceId)))) throw noTarget(input.ResourceId, input.ScalableDimension);
        const before = await tx.getRecord(parseScalingPolicyRecord, key);
        const uuid = before ? policyUuid(before.policyArn) : randomUUID();
        const policyArn =
          before?.policyArn ??
          `arn:aws:autoscaling:${env.scope.region}:${env.scope.accountId}:scalingPolicy:${uuid}:resource/ecs/${input.ResourceId}:policyName/${input.PolicyName}`;
        let alarms: ScalingPolicyRecord['alarms'] = [];
        const oldAlarms = before?.alarms ?? [];
        if (tracked) {
          const c = input.TargetTrackingScalingPolicyConfiguration!;
          const nameOf = (kind: 'High' | 'Low') => oldAlarms.find((a) => a.AlarmName.includes(`-Alarm${kind}-`))?.AlarmName ?? `TargetTracking-${input.ResourceId}-Alarm${kind}-${randomUUID()}`;
          // AWS's two alarms: above the target for 3 periods scales out; below 90 % of it for 15 scales in (none with DisableScaleIn).
          const specs = [
            { name: nameOf('High'), op: 'GreaterThanThreshold', threshold: c.TargetValue, n: 3 },
            ...(c.DisableScaleIn ? [] : [{ name: nameOf('Low'), op: 'LessThanThreshold', threshold: c.TargetValue * 0.9, n: 15 }]),
          ];
          for (const spec of specs) {
            const description = `DO NOT EDIT OR DELETE. For TargetTrackingScaling policy ${policyArn}.`;
            const config = alarmConfig({ ...tracked, AlarmName: spec.name, AlarmDescription: description, AlarmActions: [policyArn], EvaluationPeriods: spec.n, DatapointsToAlarm: spec.n, Threshold: spec.threshold, ComparisonOperator: spec.op } as PutMetricAlarmInput, period);
            const alarm = await writeAlarm(tx, env, spec.name, config, undefined, now);
            tx.putJson(alarmKeys.alarm(spec.name), { ...alarm, ownedBy: policyArn });
            alarms = [...alarms, { AlarmName: spec.name, AlarmARN: alarm.arn }];
          }
        }
        const stale = oldAlarms.filter((a) => !alarms.some((b) => b.AlarmName === a.AlarmName)).map((a) => a.AlarmName);
        await deleteAlarmsIn(tx, stale);
        const p: ScalingPolicyRecord = {
          policyArn,
          policyName: input.PolicyName,
          serviceNamespace: 'ecs',
          resourceId: input.ResourceId,
          scalableDimension: ECS_DESIRED_COUNT,
          policyType: type,
          ...(type === 'StepScaling' ? { stepScaling: input.StepScalingPolicyConfiguration! } : { targetTracking: input.TargetTrackingScalingPolicyConfiguration! }),
          alarms,
          createdAt: before?.createdAt ?? now,
          ...(before?.scaledFor ? { scaledFor: before.scaledFor } : {}),
        };
        tx.putJson(key, p);
        tx.putJson(scalingKeys.policyArn(uuid), { key });
        return p;
      });
      return { PolicyARN: record.policyArn, Alarms: record.alarms };
    },
    DescribeScalingPolicies: async (input: { PolicyNames?: string[]; ServiceNamespace: string; ResourceId?: string; ScalableDimension?: string; MaxResults?: number; NextToken?: string }) => {
      checkTarget(input);
      const prefix = input.ResourceId !== undefined ? scalingKeys.policiesOf('ecs', ECS_DESIRED_COUNT, input.ResourceId) : scalingKeys.policies();
      const all: ScalingPolicyRecord[] = [];
      for await (const page of rangePages(env.store, prefix, 500)) {
        for (const e of page) {
          const p = parseScalingPolicyRecord(e.value, e.key);
          if (input.PolicyNames && !input.PolicyNames.includes(p.policyName)) continue;
          all.push(p);
        }
      }
      const { items, next } = pageList(all, input);
      return { ScalingPolicies: items.map(policyOut), ...(next ? { NextToken: next } : {}) };
    },
    DeleteScalingPolicy: async (input: { PolicyName: string; ServiceNamespace: string; ResourceId: string; ScalableDimension: string }) => {
      checkTarget(input);
      await transact(env.store, async (tx) => {
        const p = await tx.getRecord(parseScalingPolicyRecord, policyKey(input.ResourceId, input.PolicyName));
        if (!p) throw objectNotFound(`No scaling policy found for service namespace: ecs, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}, policy name: ${input.PolicyName}`);
        tx.delete(policyKey(input.ResourceId, input.PolicyName));
        tx.delete(scalingKeys.policyArn(policyUuid(p.policyArn)));
        await deleteAlarmsIn(tx, p.alarms.map((a) => a.AlarmName));
      });
      return {};
    },
  };
}
