/**
 * The leader's half of Application Auto Scaling: policies run when their alarms invoke them (the alarm evaluator's
 * actions), scheduled actions when they fall due. Each run reads the scalable target, the policy and the ECS
 * service, decides (adjustments.ts, pure) and writes the service's desired count, the target's cooldown bookkeeping
 * and the activity in one compare-and-swap transaction: a run that conflicts is retried on fresh records, so two
 * policies never both pass one cooldown and no activity is recorded for a change that did not happen.
 */
import type { ActionOutcome } from '../metrics/alarms/alarm-evaluator.js';
import type { BackgroundLog } from '../process/background.js';
import { startPeriodic } from '../process/periodic.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import type { AlarmRecord } from '../state/records/alarms.js';
import { parsePolicyArnRecord, parseScalableTargetRecord, parseScalingPolicyRecord, parseScheduledActionRecord, type ScalableTargetRecord } from '../state/records/autoscaling.js';
import { scalingKeys } from '../state/scaling-keys.js';
import { activeService, setServiceDesiredCount } from '../state/service-scale.js';
import { desiredCountActivity, notScaledActivity, recordActivity } from './activities.js';
import { decide, matchingStep, stepCapacity, trackedCapacity, trackingCooldowns } from './adjustments.js';
import { ecsServiceOf, type AutoScalingEnv } from './env.js';
import { nextRun, parseSchedule } from './schedule.js';
import { policyUuid, targetKey } from './targets.js';

/** The metric value an alarm saw: its newest datapoints, aggregated (StateReasonData's recentDatapoints, newest first). */
function alarmMetric(alarm: AlarmRecord, aggregation: 'Average' | 'Minimum' | 'Maximum' | 'Newest'): number | undefined {
  if (!alarm.stateReasonData) return undefined;
  let points: number[];
  try {
    points = ((JSON.parse(alarm.stateReasonData) as { recentDatapoints?: number[] }).recentDatapoints ?? []).filter((v) => typeof v === 'number');
  } catch {
    return undefined;
  }
  if (points.length === 0) return undefined;
  switch (aggregation) {
    case 'Newest':
      return points[0];
    case 'Minimum':
      return Math.min(...points);
    case 'Maximum':
      return Math.max(...points);
    case 'Average':
      return points.reduce((a, b) => a + b, 0) / points.length;
  }
}

/**
 * Runs the policy `policyArn` for `alarm` (the alarm evaluator's invoker for Application Auto Scaling actions).
 * `repeat`: the alarm stayed in its state and invokes the policy again (CloudWatch's periodic re-invocation). A
 * first invocation for a state change the policy already scaled for is a leader's replay after a crash (it scaled,
 * then died before the alarm recorded its actions as run): it changes nothing, so kill -9 never scales twice.
 */
export async function executePolicy(env: AutoScalingEnv, policyArn: string, alarm: AlarmRecord, repeat = false): Promise<ActionOutcome> {
  const index = await env.store.get(scalingKeys.policyArn(policyUuid(policyArn)));
  if (!index) return { ok: false, message: `No scaling policy found for ARN ${policyArn}` };
  const now = env.now();
  return transact(env.store, async (tx): Promise<ActionOutcome> => {
    const { key } = parsePolicyArnRecord(index.value, index.key);
    const policy = await tx.getRecord(parseScalingPolicyRecord, key);
    if (!policy || policy.policyArn !== policyArn) return { ok: false, message: `No scaling policy found for ARN ${policyArn}` };
    if (!repeat && policy.scaledFor?.[alarm.name] === alarm.stateUpdatedAt) return { ok: true, message: 'already executed for this state change' };
    const target = await tx.getRecord(parseScalableTargetRecord, targetKey(policy.resourceId));
    if (!target) return { ok: false, message: `No scalable target registered for ${policy.resourceId}` };
    const { cluster, service } = ecsServiceOf(policy.resourceId);
    const s = await activeService(tx, cluster, service);
    if (!s) return { ok: false, message: `ECS service doesn't exist: ${policy.resourceId}` };
    const current = s.desiredCount ?? 0;

    let decision;
    if (policy.stepScaling) {
      const c = policy.stepScaling;
      const metric = alarmMetric(alarm, c.MetricAggregationType ?? 'Average');
      if (metric === undefined) return { ok: true, message: 'no datapoint to scale on' };
      const step = matchingStep(c.StepAdjustments ?? [], metric, alarm.threshold);
      const cooldown = c.Cooldown ?? 300;
      decision = decide({ target, current, now, wanted: (base) => (step ? stepCapacity(c, step, base) : undefined), scaleOutCooldownS: cooldown, scaleInCooldownS: cooldown });
    } else {
      const c = policy.targetTracking!;
      const metric = alarmMetric(alarm, 'Newest');
      if (metric === undefined) return { ok: true, message: 'no datapoint to scale on' };
      const cooldowns = trackingCooldowns(c);
      // The high alarm only ever scales out, the low one only in.
      const high = metric > c.TargetValue;
      decision = decide({
        target,
        current,
        now,
        wanted: (base) => {
          const to = trackedCapacity(base, metric, c.TargetValue);
          return high ? Math.max(to, base) : Math.min(to, base);
        },
        scaleOutCooldownS: cooldowns.out,
        scaleInCooldownS: cooldowns.in,
        ...(c.DisableScaleIn ? { disableScaleIn: true } : {}),
      });
    }
    const cause = `monitor alarm ${alarm.name} in state ${alarm.state} triggered policy ${policy.policyName}`;
    if (!decision.scale) {
      if (decision.reason === 'AlreadyAtMaxCapacity' || decision.reason === 'AlreadyAtMinCapacity') {
        const atMax = decision.reason === 'AlreadyAtMaxCapacity';
        await notScaledActivity(tx, policy.resourceId, now, cause, { Code: decision.reason, ...(atMax ? { MaxCapacity: target.maxCapacity } : { MinCapacity: target.minCapacity }), CurrentCapacity: current });
      }
      return { ok: true, message: `not scaled: ${decision.reason}` };
    }
    await setServiceDesiredCount(tx, cluster, service, decision.to, now);
    const next: ScalableTargetRecord =
      decision.direction === 'out'
        ? { ...target, lastScaleOut: { at: now, policy: policy.policyName, from: target.lastScaleOut && now < target.lastScaleOut.at + cooldownOf(policy, 'out') * 1000 ? target.lastScaleOut.from : current, to: decision.to } }
        : { ...target, lastScaleIn: { at: now, policy: policy.policyName } };
    tx.putJson(targetKey(policy.resourceId), next);
    if (!repeat) tx.putJson(key, { ...policy, scaledFor: { ...policy.scaledFor, [alarm.name]: alarm.stateUpdatedAt } });
    desiredCountActivity(tx, policy.resourceId, now, decision.to, cause);
    return { ok: true, message: `desired count set to ${decision.to}` };
  });
}

function cooldownOf(policy: { stepScaling?: { Cooldown?: number }; targetTracking?: { ScaleOutCooldown?: number; ScaleInCooldown?: number } }, direction: 'out' | 'in'): number {
  if (policy.stepScaling) return policy.stepScaling.Cooldown ?? 300;
  const c = policy.targetTracking!;
  return (direction === 'out' ? c.ScaleOutCooldown : c.ScaleInCooldown) ?? 300;
}

/**
 * One pass over the scheduled actions: each whose next occurrence (after the last it ran for) is due runs once —
 * new min/max on the target, the desired count brought within them — unless scheduled scaling is suspended
 * (the occurrence is then passed over, as AWS does). Returns the names run.
 */
export async function runScheduledActions(env: AutoScalingEnv): Promise<string[]> {
  const now = env.now();
  const ran: string[] = [];
  for await (const page of rangePages(env.store, scalingKeys.scheduledAll(), 500)) {
    for (const e of page) {
      const a = parseScheduledActionRecord(e.value, e.key);
      const due = nextRun(parseSchedule(a.schedule), {
        after: a.lastRunFor ?? a.createdAt - 1,
        start: a.startTime ?? (a.schedule.startsWith('rate(') ? a.createdAt : 0),
        ...(a.endTime !== undefined ? { end: a.endTime } : {}),
        ...(a.timezone !== undefined ? { timezone: a.timezone } : {}),
      });
      if (due === undefined || due > now) continue;
      await transact(env.store, async (tx) => {
        const fresh = await tx.getRecord(parseScheduledActionRecord, e.key);
        if (!fresh || fresh.lastRunFor !== a.lastRunFor) return;
        tx.putJson(e.key, { ...fresh, lastRunFor: due });
        const target = await tx.getRecord(parseScalableTargetRecord, targetKey(a.resourceId));
        if (!target || target.suspended.ScheduledScalingSuspended) return;
        const min = a.scalableTargetAction.MinCapacity ?? target.minCapacity;
        const max = a.scalableTargetAction.MaxCapacity ?? target.maxCapacity;
        // A min above the current max (or the reverse) moves the other bound with it.
        const next = { ...target, minCapacity: Math.min(min, max), maxCapacity: Math.max(min, max) };
        tx.putJson(targetKey(a.resourceId), next);
        const parts = [
          ...(a.scalableTargetAction.MinCapacity !== undefined ? [`min capacity to ${next.minCapacity}`] : []),
          ...(a.scalableTargetAction.MaxCapacity !== undefined ? [`max capacity to ${next.maxCapacity}`] : []),
        ].join(' and ');
        recordActivity(tx, a.resourceId, now, { description: `Setting ${parts}`, cause: `scheduled action name ${a.scheduledActionName} was triggered`, statusMessage: `Successfully set ${parts}. Change successfully fulfilled by ecs.` });
        const { cluster, service } = ecsServiceOf(a.resourceId);
        const s = await activeService(tx, cluster, service);
        const current = s?.desiredCount ?? 0;
        const to = Math.min(next.maxCapacity, Math.max(next.minCapacity, current));
        if (s && to !== current) {
          await setServiceDesiredCount(tx, cluster, service, to, now + 1);
          desiredCountActivity(tx, a.resourceId, now + 1, to, to > current ? `minimum capacity was set to ${next.minCapacity}` : `maximum capacity was set to ${next.maxCapacity}`);
        }
        ran.push(a.scheduledActionName);
      });
    }
  }
  return ran;
}

/** The leader's scheduled scaling: a pass every `intervalMs` (default 1 s, so an at() a few seconds ahead runs on time). */
export function startScheduledScaling(env: AutoScalingEnv, log: BackgroundLog, intervalMs = 1_000): { stop(): Promise<void> } {
  return startPeriodic({ log, what: 'scheduled scaling', intervalMs, run: () => runScheduledActions(env) });
}
