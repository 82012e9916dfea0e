import { randomBytes } from 'node:crypto';
import type { ArnScope } from '../model/arn.js';
import { elbErrors } from './errors.js';

/**
 * ELBv2's ARNs, as AWS forms them:
 *   loadbalancer/app|net/<name>/<id>              targetgroup/<name>/<id>
 *   listener/app|net/<lb-name>/<lb-id>/<id>       listener-rule/app|net/<lb-name>/<lb-id>/<listener-id>/<id>
 * A listener's or rule's ARN names its load balancer, so the records a request needs are found from the ARN alone.
 */

/** A new 16-hex id (AWS's ids in these ARNs have this form). */
export const newElbId = (): string => randomBytes(8).toString('hex');

const base = (scope: ArnScope) => `arn:aws:elasticloadbalancing:${scope.region}:${scope.accountId}`;
const kindOf = (type: 'application' | 'network') => (type === 'application' ? 'app' : 'net');

export const elbArns = {
  loadBalancer: (scope: ArnScope, type: 'application' | 'network', name: string, id: string) => `${base(scope)}:loadbalancer/${kindOf(type)}/${name}/${id}`,
  targetGroup: (scope: ArnScope, name: string, id: string) => `${base(scope)}:targetgroup/${name}/${id}`,
  listener: (loadBalancerArn: string, id: string) => `${loadBalancerArn.replace(':loadbalancer/', ':listener/')}/${id}`,
  rule: (listenerArn: string, id: string) => `${listenerArn.replace(':listener/', ':listener-rule/')}/${id}`,
} as const;

const PREFIX = 'arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\\d{12}';
const LB = new RegExp(`^${PREFIX}:loadbalancer/(app|net)/([A-Za-z0-9-]{1,32})/([0-9a-f]{16})$`);
const TG = new RegExp(`^${PREFIX}:targetgroup/([A-Za-z0-9-]{1,32})/([0-9a-f]{16})$`);
const LISTENER = new RegExp(`^${PREFIX}:listener/(app|net)/([A-Za-z0-9-]{1,32})/([0-9a-f]{16})/([0-9a-f]{16})$`);
const RULE = new RegExp(`^${PREFIX}:listener-rule/(app|net)/([A-Za-z0-9-]{1,32})/([0-9a-f]{16})/([0-9a-f]{16})/([0-9a-f]{16})$`);

export interface LoadBalancerRef {
  readonly name: string;
  readonly id: string;
}
export interface TargetGroupRef {
  readonly name: string;
  readonly id: string;
}
export interface ListenerRef {
  readonly loadBalancer: LoadBalancerRef;
  readonly loadBalancerArn: string;
  readonly id: string;
}
export interface RuleRef {
  readonly listener: ListenerRef;
  readonly listenerArn: string;
  readonly id: string;
}

/** The load balancer an ARN names; ValidationError when it is no load balancer ARN. */
export function parseLoadBalancerArn(arn: string): LoadBalancerRef {
  const m = LB.exec(arn);
  if (!m) throw elbErrors.validation(`'${arn}' is not a valid load balancer ARN`);
  return { name: m[2]!, id: m[3]! };
}

export function parseTargetGroupArn(arn: string): TargetGroupRef {
  const m = TG.exec(arn);
  if (!m) throw elbErrors.validation(`'${arn}' is not a valid target group ARN`);
  return { name: m[1]!, id: m[2]! };
}

export function parseListenerArn(arn: string): ListenerRef {
  const m = LISTENER.exec(arn);
  if (!m) throw elbErrors.validation(`'${arn}' is not a valid listener ARN`);
  return { loadBalancer: { name: m[2]!, id: m[3]! }, loadBalancerArn: arn.replace(':listener/', ':loadbalancer/').replace(/\/[0-9a-f]{16}$/, ''), id: m[4]! };
}

export function parseRuleArn(arn: string): RuleRef {
  const m = RULE.exec(arn);
  if (!m) throw elbErrors.validation(`'${arn}' is not a valid listener rule ARN`);
  const listenerArn = arn.replace(':listener-rule/', ':listener/').replace(/\/[0-9a-f]{16}$/, '');
  return { listener: parseListenerArn(listenerArn), listenerArn, id: m[5]! };
}

/** The load balancer ARN inside a listener or rule ARN (what a target group's LoadBalancerArns are made of). */
export function loadBalancerArnOf(listenerOrRuleArn: string): string {
  return listenerOrRuleArn.includes(':listener-rule/')
    ? parseRuleArn(listenerOrRuleArn).listener.loadBalancerArn
    : parseListenerArn(listenerOrRuleArn).loadBalancerArn;
}

/** Which kind of resource an ARN is, for the tag actions. */
export function resourceKindOf(arn: string): 'loadbalancer' | 'targetgroup' | 'listener' | 'listener-rule' | undefined {
  if (LB.test(arn)) return 'loadbalancer';
  if (TG.test(arn)) return 'targetgroup';
  if (LISTENER.test(arn)) return 'listener';
  if (RULE.test(arn)) return 'listener-rule';
  return undefined;
}
