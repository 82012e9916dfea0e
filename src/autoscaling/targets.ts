import { randomBytes } from 'node:crypto';
import { deleteAlarmsIn } from '../metrics/alarms/alarm-api.js';
import { rangePages } from '../store/range-pages.js';
import { transact, type Tx } from '../store/transact.js';
import { parseScalableTargetRecord, parseScalingPolicyRecord, type ScalableTargetRecord, type SuspendedState } from '../state/records/autoscaling.js';
import { scalingKeys } from '../state/scaling-keys.js';
import { activeService, setServiceDesiredCount } from '../state/service-scale.js';
import { desiredCountActivity } from './activities.js';
import { checkTarget, ECS_DESIRED_COUNT, ecsServiceOf, noTarget, validation, type AutoScalingEnv } from './env.js';
import { pageList } from './paging.js';

interface RegisterInput {
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
  MinCapacity?: number;
  MaxCapacity?: number;
  RoleARN?: string;
  SuspendedState?: Partial<SuspendedState>;
  Tags?: Record<string, string>;
}

const NOT_SUSPENDED: SuspendedState = { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false };

export const targetKey = (resourceId: string) => scalingKeys.target('ecs', ECS_DESIRED_COUNT, resourceId);

/** The wire shape of a scalable target. */
export function targetOut(t: ScalableTargetRecord): object {
  return {
    ServiceNamespace: t.serviceNamespace,
    ResourceId: t.resourceId,
    ScalableDimension: t.scalableDimension,
    MinCapacity: t.minCapacity,
    MaxCapacity: t.maxCapacity,
    RoleARN: t.roleArn,
    CreationTime: t.createdAt / 1000,
    SuspendedState: t.suspended,
    ScalableTargetARN: t.arn,
  };
}

/**
 * Brings the service's desired count within new bounds (Application Auto Scaling does, when min or max moves past
 * it), recording the activity with `cause`.
 */
export async function enforceBounds(tx: Tx, t: ScalableTargetRecord, now: number, cause: (to: number) => string): Promise<void> {
  const { cluster, service } = ecsServiceOf(t.resourceId);
  const s = await activeService(tx, cluster, service);
  if (!s) return;
  const current = s.desiredCount ?? 0;
  const to = Math.min(t.maxCapacity, Math.max(t.minCapacity, current));
  if (to === current) return;
  await setServiceDesiredCount(tx, cluster, service, to, now);
  desiredCountActivity(tx, t.resourceId, now, to, cause(to));
}

export function targetOperations(env: AutoScalingEnv) {
  const arnPrefix = `arn:aws:application-autoscaling:${env.scope.region}:${env.scope.accountId}:scalable-target/`;
  return {
    RegisterScalableTarget: async (input: RegisterInput) => {
      checkTarget(input);
      const { cluster, service } = ecsServiceOf(input.ResourceId);
      if (input.Tags && Object.keys(input.Tags).length > 50) throw validation('A scalable target can have at most 50 tags.');
      const now = env.now();
      const t = await transact(env.store, async (tx) => {
        if (!(await activeService(tx, cluster, service))) throw validation(`ECS service doesn't exist: ${input.ResourceId}`);
        const before = await tx.getRecord(parseScalableTargetRecord, targetKey(input.ResourceId));
        if (!before && (input.MinCapacity === undefined || input.MaxCapacity === undefined)) {
          throw validation('MinCapacity and MaxCapacity are required when registering a new scalable target.');
        }
        const min = input.MinCapacity ?? before!.minCapacity;
        const max = input.MaxCapacity ?? before!.maxCapacity;
        if (min > max) throw validation(`Minimum capacity (${min}) cannot be greater than maximum capacity (${max}).`);
        const next: ScalableTargetRecord = {
          ...(before ?? {
            serviceNamespace: 'ecs',
            resourceId: input.ResourceId,
            scalableDimension: ECS_DESIRED_COUNT,
            arn: `${arnPrefix}${randomBytes(16).toString('hex')}`,
            createdAt: now,
            // The service-linked role Application Auto Scaling uses for ECS.
            roleArn: `arn:aws:iam::${env.scope.accountId}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`,
            tags: {},
          }),
          minCapacity: min,
          maxCapacity: max,
          suspended: { ...NOT_SUSPENDED, ...before?.suspended, ...input.SuspendedState },
          ...(input.RoleARN !== undefined ? { roleArn: input.RoleARN } : {}),
          tags: before && !input.Tags ? before.tags : { ...before?.tags, ...input.Tags },
        };
        tx.putJson(targetKey(input.ResourceId), next);
        const moved = !before || before.minCapacity !== min || before.maxCapacity !== max;
        if (moved) await enforceBounds(tx, next, now, (to) => (to === min ? `minimum capacity was set to ${min}` : `maximum capacity was set to ${max}`));
        return next;
      });
      return { ScalableTargetARN: t.arn };
    },
    DescribeScalableTargets: async (input: { ServiceNamespace: string; ResourceIds?: string[]; ScalableDimension?: string; MaxResults?: number; NextToken?: string }) => {
      checkTarget(input);
      const all: ScalableTargetRecord[] = [];
      for await (const page of rangePages(env.store, scalingKeys.targets(), 500)) {
        for (const e of page) {
          const t = parseScalableTargetRecord(e.value, e.key);
          if (input.ResourceIds && !input.ResourceIds.includes(t.resourceId)) continue;
          all.push(t);
        }
      }
      const { items, next } = pageList(all, input);
      return { ScalableTargets: items.map(targetOut), ...(next ? { NextToken: next } : {}) };
    },
    DeregisterScalableTarget: async (input: { ServiceNamespace: string; ResourceId: string; ScalableDimension: string }) => {
      checkTarget(input);
      await transact(env.store, async (tx) => {
        if (!(await tx.get(targetKey(input.ResourceId)))) throw noTarget(input.ResourceId, input.ScalableDimension);
        tx.delete(targetKey(input.ResourceId));
        // Its policies (and the alarms target tracking created) and scheduled actions go with it, as in AWS.
        const policies = await tx.range(scalingKeys.policiesOf('ecs', ECS_DESIRED_COUNT, input.ResourceId));
        for (const e of policies.entries) {
          const p = parseScalingPolicyRecord(e.value, e.key);
          tx.delete(e.key);
          tx.delete(scalingKeys.policyArn(policyUuid(p.policyArn)));
          await deleteAlarmsIn(tx, p.alarms.map((a) => a.AlarmName));
        }
        for (const e of (await tx.range(scalingKeys.scheduledOf('ecs', ECS_DESIRED_COUNT, input.ResourceId))).entries) tx.delete(e.key);
      });
      return {};
    },
  };
}

/** `arn:aws:autoscaling:…:scalingPolicy:<uuid>:resource/…` → the uuid. */
export function policyUuid(arn: string): string {
  return /:scalingPolicy:([0-9a-f-]+):/.exec(arn)?.[1] ?? '';
}
