import type { AdvancedConfiguration } from '@aws-sdk/client-ecs';
import { resourceKindOf } from '../../elb/arns.js';
import { forwardWeightsOf } from '../../elb/forward-weights.js';
import { listenerByArn, ruleByArn } from '../../elb/records.js';
import { targetGroupInTx } from '../../elb/service-targets.js';
import { parseRuleArn } from '../../elb/arns.js';
import { invalidParameter } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { transact, type Tx } from '../../store/transact.js';
import type { EcsEnv } from './env.js';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const field = (name: string) => `loadBalancers.advancedConfiguration.${name}`;

/** The forward weights of a listener rule, or of a listener's default actions (also through its default rule's ARN). */
async function forwardOf(tx: Tx, arn: string) {
  const kind = resourceKindOf(arn);
  if (kind === 'listener') return forwardWeightsOf((await listenerByArn(tx, arn)).defaultActions) ?? [];
  if (kind !== 'listener-rule') return undefined;
  const listener = await listenerByArn(tx, parseRuleArn(arn).listenerArn);
  if (listener.defaultRuleId === parseRuleArn(arn).id) return forwardWeightsOf(listener.defaultActions) ?? [];
  return forwardWeightsOf((await ruleByArn(tx, arn)).actions) ?? [];
}

/**
 * A `loadBalancers` entry's advancedConfiguration (blue/green, canary and linear deployments), checked against the
 * ELB records: the alternate target group exists, is not the entry's own and has its target type; the production
 * listener rule (an ALB rule or a listener) exists and forwards to one of the two groups; the test listener rule, if
 * given, exists and is another rule; roleArn, if given, is an IAM role ARN (recorded: berth's controller changes the
 * rules itself and assumes no role). InvalidParameterException naming the field; returns the entry as stored.
 */
export async function checkedAdvancedConfiguration(
  env: EcsEnv,
  targetGroupArn: string,
  targetType: string,
  given: Wire<AdvancedConfiguration>,
): Promise<Wire<AdvancedConfiguration>> {
  const alternate = given.alternateTargetGroupArn;
  if (!alternate) throw invalidParameter(`${field('alternateTargetGroupArn')} is required in an advanced configuration.`);
  if (alternate === targetGroupArn) throw invalidParameter(`${field('alternateTargetGroupArn')} must be another target group than targetGroupArn.`);
  if (!given.productionListenerRule) throw invalidParameter(`${field('productionListenerRule')} is required: berth shifts production traffic by its forward weights.`);
  if (given.testListenerRule !== undefined && given.testListenerRule === given.productionListenerRule) {
    throw invalidParameter(`${field('testListenerRule')} must be another listener rule than productionListenerRule.`);
  }
  if (given.roleArn !== undefined && !ROLE_ARN.test(given.roleArn)) throw invalidParameter(`${field('roleArn')} must be the ARN of an IAM role, not ${given.roleArn}.`);
  await transact(env.store, async (tx) => {
    const alt = await targetGroupInTx(tx, alternate);
    if (!alt) throw invalidParameter(`Unable to validate the specified ${field('alternateTargetGroupArn')}: target group ${alternate} not found.`);
    if (alt.targetType !== targetType) {
      throw invalidParameter(`${field('alternateTargetGroupArn')}: target group ${alternate} has target type ${alt.targetType}, not ${targetType} as targetGroupArn has.`);
    }
    const found = async (name: string, arn: string) => {
      const weights = await forwardOf(tx, arn).catch(() => undefined);
      if (!weights) throw invalidParameter(`${field(name)}: ${arn} is not a listener rule or listener that exists.`);
      return weights;
    };
    const production = await found('productionListenerRule', given.productionListenerRule!);
    if (!production.some((w) => w.targetGroupArn === targetGroupArn || w.targetGroupArn === alternate)) {
      throw invalidParameter(`${field('productionListenerRule')}: ${given.productionListenerRule} must forward to target group ${targetGroupArn} or ${alternate}.`);
    }
    if (given.testListenerRule) await found('testListenerRule', given.testListenerRule);
  });
  return {
    alternateTargetGroupArn: alternate,
    productionListenerRule: given.productionListenerRule,
    ...(given.testListenerRule ? { testListenerRule: given.testListenerRule } : {}),
    ...(given.roleArn ? { roleArn: given.roleArn } : {}),
  };
}
