import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import { ServiceError } from '../model/errors.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import { parseScalableTargetRecord, parseScalingActivityRecord, type ScalableTargetRecord } from '../state/records/autoscaling.js';
import { scalingKeys } from '../state/scaling-keys.js';
import { checkTarget, ECS_DESIRED_COUNT, validation, type AutoScalingEnv } from './env.js';
import { autoScalingActions } from './iam-actions.js';
import { pageList } from './paging.js';
import { policyOperations } from './policies.js';
import { scheduledOperations } from './scheduled-actions.js';
import { targetOperations } from './targets.js';

export const AUTO_SCALING_TARGET_PREFIX = 'AnyScaleFrontendService';

/**
 * Application Auto Scaling (AWS JSON 1.1, `AnyScaleFrontendService`, signed for `application-autoscaling`) for ECS
 * services' desired count: scalable targets, step and target-tracking policies (target tracking creates and owns
 * its CloudWatch alarms), scheduled actions, activities and tags. The scaling itself runs on the leader
 * (scaling-engine.ts). Other service namespaces are refused with ValidationException; predictive scaling is not served.
 */
export function autoScalingService(env: AutoScalingEnv): JsonService {
  const operations: Record<string, Operation> = {
    ...(targetOperations(env) as Record<string, Operation>),
    ...(policyOperations(env) as Record<string, Operation>),
    ...(scheduledOperations(env) as Record<string, Operation>),
    DescribeScalingActivities: async (input: { ServiceNamespace: string; ResourceId?: string; ScalableDimension?: string; MaxResults?: number; NextToken?: string; IncludeNotScaledActivities?: boolean }) => {
      checkTarget(input);
      const prefix = input.ResourceId !== undefined ? scalingKeys.activitiesOf('ecs', ECS_DESIRED_COUNT, input.ResourceId) : scalingKeys.activities();
      const all = [];
      for await (const page of rangePages(env.store, prefix, 500)) {
        for (const e of page) {
          const a = parseScalingActivityRecord(e.value, e.key);
          // Not scaled activities only when asked for, as AWS lists them.
          if (a.NotScaledReasons && !input.IncludeNotScaledActivities) continue;
          all.push(a);
        }
      }
      // Keys sort newest first within a resource; across resources, by time.
      if (input.ResourceId === undefined) all.sort((a, b) => b.StartTime - a.StartTime);
      const { items, next } = pageList(all, input);
      return {
        ScalingActivities: items.map((a) => ({ ...a, StartTime: a.StartTime / 1000, ...(a.EndTime !== undefined ? { EndTime: a.EndTime / 1000 } : {}) })),
        ...(next ? { NextToken: next } : {}),
      };
    },
    ListTagsForResource: async (input: { ResourceARN: string }) => ({ Tags: (await targetByArn(env, input.ResourceARN)).tags }),
    TagResource: async (input: { ResourceARN: string; Tags: Record<string, string> }) => {
      await changeTags(env, input.ResourceARN, (tags) => ({ ...tags, ...input.Tags }));
      return {};
    },
    UntagResource: async (input: { ResourceARN: string; TagKeys: string[] }) => {
      await changeTags(env, input.ResourceARN, (tags) => Object.fromEntries(Object.entries(tags).filter(([k]) => !input.TagKeys.includes(k))));
      return {};
    },
  };
  return {
    targetPrefix: AUTO_SCALING_TARGET_PREFIX,
    signingNames: ['application-autoscaling'],
    model: loadServiceModel('application-autoscaling-2016-02-06.json'),
    operations,
    actions: autoScalingActions,
    inputErrorType: 'ValidationException',
  };
}

async function targetByArn(env: AutoScalingEnv, arn: string): Promise<ScalableTargetRecord & { key: string }> {
  for await (const page of rangePages(env.store, scalingKeys.targets(), 500)) {
    for (const e of page) {
      const t = parseScalableTargetRecord(e.value, e.key);
      if (t.arn === arn) return { ...t, key: e.key };
    }
  }
  if (!arn.startsWith('arn:')) throw validation(`${arn} is not an ARN.`);
  throw new ServiceError('ResourceNotFoundException', `The resource ${arn} does not exist.`);
}

async function changeTags(env: AutoScalingEnv, arn: string, change: (tags: Readonly<Record<string, string>>) => Record<string, string>): Promise<void> {
  const found = await targetByArn(env, arn);
  await transact(env.store, async (tx) => {
    const t = await tx.getRecord(parseScalableTargetRecord, found.key);
    if (!t || t.arn !== arn) throw new ServiceError('ResourceNotFoundException', `The resource ${arn} does not exist.`);
    const tags = change(t.tags);
    if (Object.keys(tags).length > 50) throw new ServiceError('TooManyTagsException', 'A resource can have at most 50 tags.');
    tx.putJson(found.key, { ...t, tags });
  });
}
