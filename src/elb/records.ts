import { elbKeys } from '../state/elb-keys.js';
import { parseListener, parseLoadBalancer, parseRule, parseTargetGroup, type ListenerRecord, type LoadBalancerRecord, type RuleRecord, type TargetGroupRecord } from '../state/records/elb.js';
import { rangePages } from '../store/range-pages.js';
import type { Store } from '../store/store.js';
import type { Tx } from '../store/transact.js';
import { parseListenerArn, parseLoadBalancerArn, parseRuleArn, parseTargetGroupArn } from './arns.js';
import { elbErrors } from './errors.js';

/**
 * Reading ELB's records by ARN in a transaction: the ARN gives the key (a name, or a parent's id), and the id in
 * the ARN must be the record's (an ARN of a deleted load balancer does not name a new one of the same name).
 */

export async function loadBalancerByArn(tx: Tx, arn: string): Promise<LoadBalancerRecord> {
  const ref = parseLoadBalancerArn(arn);
  const lb = await tx.getRecord(parseLoadBalancer, elbKeys.loadBalancer(ref.name));
  if (!lb || lb.arn !== arn) throw elbErrors.lbNotFound(`Load balancer '${arn}' not found`);
  return lb;
}

export async function targetGroupByArn(tx: Tx, arn: string): Promise<TargetGroupRecord> {
  const ref = parseTargetGroupArn(arn);
  const tg = await tx.getRecord(parseTargetGroup, elbKeys.targetGroup(ref.name));
  if (!tg || tg.arn !== arn) throw elbErrors.tgNotFound(`Target group '${arn}' not found`);
  return tg;
}

export async function listenerByArn(tx: Tx, arn: string): Promise<ListenerRecord> {
  const ref = parseListenerArn(arn);
  const listener = await tx.getRecord(parseListener, elbKeys.listener(ref.loadBalancer.id, ref.id));
  if (!listener || listener.arn !== arn) throw elbErrors.listenerNotFound(`Listener '${arn}' not found`);
  return listener;
}

export async function ruleByArn(tx: Tx, arn: string): Promise<RuleRecord> {
  const ref = parseRuleArn(arn);
  const rule = await tx.getRecord(parseRule, elbKeys.rule(ref.listener.id, ref.id));
  if (!rule || rule.arn !== arn) throw elbErrors.ruleNotFound(`Rule '${arn}' not found`);
  return rule;
}

/** Every record under `prefix`, parsed, in key order. */
export async function listAll<T>(store: Store, prefix: string, parse: (value: string, key: string) => T): Promise<T[]> {
  const out: T[] = [];
  for await (const page of rangePages(store, prefix, 500)) for (const e of page) out.push(parse(e.value, e.key));
  return out;
}
