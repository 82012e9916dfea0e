import type { Operation } from '../api/protocol/json-rpc.js';
import { elbKeys } from '../state/elb-keys.js';
import type { ElbTag } from '../state/records/elb.js';
import { transact, type Tx } from '../store/transact.js';
import { parseListenerArn, parseLoadBalancerArn, parseRuleArn, parseTargetGroupArn, resourceKindOf } from './arns.js';
import { limitsOf, type ElbEnv } from './env.js';
import { elbErrors } from './errors.js';
import { listenerByArn, loadBalancerByArn, ruleByArn, targetGroupByArn } from './records.js';

/** Tags given at creation: no key twice, at most the quota. */
export function initialTags(env: ElbEnv, tags: readonly ElbTag[] | undefined): ElbTag[] {
  const out: ElbTag[] = [];
  for (const t of tags ?? []) {
    if (out.some((x) => x.Key === t.Key)) throw elbErrors.duplicateTagKeys(t.Key);
    out.push({ Key: t.Key, ...(t.Value !== undefined ? { Value: t.Value } : {}) });
  }
  if (out.length > limitsOf(env).tagsPerResource) throw elbErrors.tooMany('TooManyTags', `A resource can have at most ${limitsOf(env).tagsPerResource} tags`);
  return out;
}

/** The record key and tags of the resource `arn` names (its NotFound error when it does not exist). */
async function resource(tx: Tx, arn: string): Promise<{ key: string; record: { tags: readonly ElbTag[] } & object }> {
  switch (resourceKindOf(arn)) {
    case 'loadbalancer':
      return { key: elbKeys.loadBalancer(parseLoadBalancerArn(arn).name), record: await loadBalancerByArn(tx, arn) };
    case 'targetgroup':
      return { key: elbKeys.targetGroup(parseTargetGroupArn(arn).name), record: await targetGroupByArn(tx, arn) };
    case 'listener': {
      const ref = parseListenerArn(arn);
      return { key: elbKeys.listener(ref.loadBalancer.id, ref.id), record: await listenerByArn(tx, arn) };
    }
    case 'listener-rule': {
      const ref = parseRuleArn(arn);
      const rule = await ruleByArn(tx, arn);
      return { key: elbKeys.rule(ref.listener.id, ref.id), record: rule };
    }
    default:
      throw elbErrors.validation(`'${arn}' is not a valid resource ARN`);
  }
}

/** AddTags, RemoveTags and DescribeTags on load balancers, target groups, listeners and rules. */
export function tagOperations(env: ElbEnv): Record<string, Operation> {
  const limit = () => limitsOf(env).tagsPerResource;
  return {
    async AddTags(input: { ResourceArns: string[]; Tags: ElbTag[] }) {
      const added = initialTags({ ...env, limits: { ...env.limits, tagsPerResource: Number.MAX_SAFE_INTEGER } }, input.Tags);
      await transact(env.store, async (tx) => {
        for (const arn of input.ResourceArns) {
          const { key, record } = await resource(tx, arn);
          const byKey = new Map(record.tags.map((t) => [t.Key, t]));
          for (const t of added) byKey.set(t.Key, t);
          if (byKey.size > limit()) throw elbErrors.tooMany('TooManyTags', `The resource '${arn}' would have more than ${limit()} tags`);
          tx.putJson(key, { ...record, tags: [...byKey.values()] });
        }
      });
      return {};
    },

    async RemoveTags(input: { ResourceArns: string[]; TagKeys: string[] }) {
      await transact(env.store, async (tx) => {
        for (const arn of input.ResourceArns) {
          const { key, record } = await resource(tx, arn);
          tx.putJson(key, { ...record, tags: record.tags.filter((t) => !input.TagKeys.includes(t.Key)) });
        }
      });
      return {};
    },

    async DescribeTags(input: { ResourceArns: string[] }) {
      const descriptions = await transact(env.store, async (tx) => {
        const out: { ResourceArn: string; Tags: readonly ElbTag[] }[] = [];
        for (const arn of input.ResourceArns) out.push({ ResourceArn: arn, Tags: (await resource(tx, arn)).record.tags });
        return out;
      });
      return { TagDescriptions: descriptions };
    },
  };
}
