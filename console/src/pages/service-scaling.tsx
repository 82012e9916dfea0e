import {
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  type ScalingPolicy,
} from '@aws-sdk/client-application-auto-scaling';
import { ErrorNote, Fact, Loading, Status, Table } from '../components.js';
import { timestamp } from '../format.js';
import { usePoll } from '../poll.js';
import { scalingClient } from '../scaling-api.js';
import { useSession } from '../session.js';

const NAMESPACE = 'ecs';
const DIMENSION = 'ecs:service:DesiredCount';
/** Activities shown, newest first. */
const ACTIVITIES_SHOWN = 20;

/**
 * A service's auto scaling as Application Auto Scaling has it: the scalable target (min/max, suspended), its
 * policies, and its newest activities (DescribeScalableTargets, DescribeScalingPolicies, DescribeScalingActivities
 * on `service/<cluster>/<service>`).
 */
export default function ServiceScaling({ cluster, service }: { cluster: string; service: string }) {
  const { session } = useSession();
  const resourceId = `service/${cluster}/${service}`;
  const polled = usePoll(async () => {
    const aas = scalingClient(session);
    const [targets, policies, activities] = await Promise.all([
      aas.send(new DescribeScalableTargetsCommand({ ServiceNamespace: NAMESPACE, ResourceIds: [resourceId], ScalableDimension: DIMENSION })),
      aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: NAMESPACE, ResourceId: resourceId, ScalableDimension: DIMENSION })),
      aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: NAMESPACE, ResourceId: resourceId, ScalableDimension: DIMENSION, MaxResults: ACTIVITIES_SHOWN })),
    ]);
    return { target: targets.ScalableTargets?.[0], policies: policies.ScalingPolicies ?? [], activities: activities.ScalingActivities ?? [] };
  }, [session, resourceId]);

  if (!polled.data) return polled.error ? <ErrorNote error={polled.error} what="read the service's auto scaling" /> : <Loading what="auto scaling" />;
  const { target, policies, activities } = polled.data;
  const suspended = target?.SuspendedState;
  return (
    <>
      <ErrorNote error={polled.error} what="read the service's auto scaling" />
      {!target ? (
        <p class="muted">Not registered with Application Auto Scaling (no scalable target for {resourceId}).</p>
      ) : (
        <dl class="facts">
          <Fact label="Minimum tasks" testId="scaling-min">{target.MinCapacity}</Fact>
          <Fact label="Maximum tasks" testId="scaling-max">{target.MaxCapacity}</Fact>
          <Fact label="Suspended">
            {[suspended?.DynamicScalingInSuspended && 'scale-in', suspended?.DynamicScalingOutSuspended && 'scale-out', suspended?.ScheduledScalingSuspended && 'scheduled']
              .filter(Boolean)
              .join(', ') || 'no'}
          </Fact>
        </dl>
      )}
      <h3>Policies</h3>
      {policies.length === 0 ? (
        <p class="muted">No scaling policies.</p>
      ) : (
        <Table caption="Scaling policies" head={['Policy', 'Type', 'Rule', 'Alarms']}>
          {policies.map((p) => (
            <tr key={p.PolicyARN}>
              <th scope="row">{p.PolicyName}</th>
              <td>{p.PolicyType}</td>
              <td>{policyRule(p)}</td>
              <td>{(p.Alarms ?? []).map((a) => a.AlarmName).join(', ')}</td>
            </tr>
          ))}
        </Table>
      )}
      <h3>Activities</h3>
      {activities.length === 0 ? (
        <p class="muted">No scaling activities yet.</p>
      ) : (
        <Table caption="Scaling activities, newest first" head={['Started', 'Status', 'Description', 'Cause']}>
          {activities.map((a) => (
            <tr key={a.ActivityId}>
              <td>{timestamp(a.StartTime)}</td>
              <td>
                <Status value={a.StatusCode === 'Successful' ? 'COMPLETED' : a.StatusCode === 'Failed' ? 'FAILED' : a.StatusCode?.toUpperCase()} />
                {a.StatusMessage ? <div class="muted">{a.StatusMessage}</div> : null}
              </td>
              <th scope="row">{a.Description}</th>
              <td>{a.Cause}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

/** A policy's rule in a line: what it tracks and towards what, or its steps. */
export function policyRule(p: ScalingPolicy): string {
  const tt = p.TargetTrackingScalingPolicyConfiguration;
  if (tt) {
    const metric = tt.PredefinedMetricSpecification?.PredefinedMetricType ?? tt.CustomizedMetricSpecification?.MetricName ?? 'a metric';
    return `keep ${metric} at ${tt.TargetValue}${tt.DisableScaleIn ? ' (no scale-in)' : ''}`;
  }
  const step = p.StepScalingPolicyConfiguration;
  if (step) {
    const steps = (step.StepAdjustments ?? []).map((s) => `${s.MetricIntervalLowerBound ?? '-∞'}…${s.MetricIntervalUpperBound ?? '+∞'}: ${s.ScalingAdjustment! > 0 ? '+' : ''}${s.ScalingAdjustment}`);
    return `${step.AdjustmentType ?? ''} ${steps.join('; ')}`.trim();
  }
  return '';
}
