import { elbKeys } from '../state/elb-keys.js';
import type { ElbAction, ListenerRecord } from '../state/records/elb.js';
import type { Tx } from '../store/transact.js';
import { checkActions } from './actions.js';
import { parseListenerArn, parseRuleArn, resourceKindOf } from './arns.js';
import { bindTargetGroups } from './bindings.js';
import { listenerByArn, ruleByArn } from './records.js';

/**
 * The ECS service controller's traffic shifting (blue/green, canary, linear deployments): set the forward weights of
 * a listener rule — or of a listener's default actions, when the ARN names a listener or its default rule — inside
 * the controller's own transaction, as ModifyRule/ModifyListener would (the same checks and `usedBy` bindings).
 * The group stickiness of the forward is kept. Idempotent: nothing is written when the weights are already these.
 */

/** One weighted target group of a forward. */
export interface ForwardWeight {
  readonly targetGroupArn: string;
  readonly weight: number;
}

/** What a forward action says now, as weights (undefined when the action is not a single forward). */
export function forwardWeightsOf(actions: readonly ElbAction[]): ForwardWeight[] | undefined {
  const forward = actions.length === 1 && actions[0]!.Type === 'forward' ? actions[0]! : undefined;
  const groups = (forward?.ForwardConfig as { TargetGroups?: { TargetGroupArn: string; Weight: number }[] } | undefined)?.TargetGroups;
  return groups?.map((g) => ({ targetGroupArn: g.TargetGroupArn, weight: g.Weight }));
}

const same = (a: readonly ForwardWeight[] | undefined, b: readonly ForwardWeight[]) =>
  a !== undefined && a.length === b.length && a.every((x, i) => x.targetGroupArn === b[i]!.targetGroupArn && x.weight === b[i]!.weight);

function weighted(current: readonly ElbAction[], weights: readonly ForwardWeight[], type: 'application' | 'network'): ElbAction[] {
  const sticky = (current[0]?.ForwardConfig as { TargetGroupStickinessConfig?: { Enabled?: boolean; DurationSeconds?: number } } | undefined)?.TargetGroupStickinessConfig;
  return checkActions(
    [{ Type: 'forward', ForwardConfig: { TargetGroups: weights.map((w) => ({ TargetGroupArn: w.targetGroupArn, Weight: w.weight })), ...(sticky ? { TargetGroupStickinessConfig: sticky } : {}) } }],
    type,
  ).actions;
}

/** Set the forward weights of the rule or listener at `arn`; returns whether anything changed. Throws ELB's errors (RuleNotFound, …). */
export async function setForwardWeights(tx: Tx, arn: string, weights: readonly ForwardWeight[]): Promise<boolean> {
  const kind = resourceKindOf(arn);
  let listener: ListenerRecord;
  if (kind === 'listener-rule') {
    listener = await listenerByArn(tx, parseRuleArn(arn).listenerArn);
    if (listener.defaultRuleId !== parseRuleArn(arn).id) {
      const rule = await ruleByArn(tx, arn);
      if (same(forwardWeightsOf(rule.actions), weights)) return false;
      const actions = weighted(rule.actions, weights, 'application');
      await bindTargetGroups(tx, rule.arn, listener.protocol, weights.map((w) => w.targetGroupArn), (forwardWeightsOf(rule.actions) ?? []).map((w) => w.targetGroupArn));
      tx.putJson(elbKeys.rule(listener.id, rule.id), { ...rule, actions });
      return true;
    }
  } else {
    listener = await listenerByArn(tx, arn);
  }
  if (same(forwardWeightsOf(listener.defaultActions), weights)) return false;
  const type = listener.protocol === 'HTTP' || listener.protocol === 'HTTPS' ? 'application' : 'network';
  const actions = weighted(listener.defaultActions, weights, type);
  await bindTargetGroups(tx, listener.arn, listener.protocol, weights.map((w) => w.targetGroupArn), (forwardWeightsOf(listener.defaultActions) ?? []).map((w) => w.targetGroupArn));
  tx.putJson(elbKeys.listener(parseListenerArn(listener.arn).loadBalancer.id, listener.id), { ...listener, defaultActions: actions });
  return true;
}
