import { elbKeys } from '../state/elb-keys.js';
import type { ElbProtocol, TargetGroupRecord } from '../state/records/elb.js';
import type { Tx } from '../store/transact.js';
import { loadBalancerArnOf } from './arns.js';
import { elbErrors } from './errors.js';
import { targetGroupByArn } from './records.js';
import { loadBalancersOf } from './target-groups.js';

/**
 * Which target group protocols a listener protocol may forward to (AWS's table): an Application Load Balancer's
 * HTTP(S) listeners to HTTP(S) groups, a Network Load Balancer's TCP/TLS/UDP/TCP_UDP listeners to the groups
 * carrying the same transport.
 */
const COMPATIBLE: Readonly<Record<ElbProtocol, readonly ElbProtocol[]>> = {
  HTTP: ['HTTP', 'HTTPS'],
  HTTPS: ['HTTP', 'HTTPS'],
  TCP: ['TCP', 'TCP_UDP'],
  TLS: ['TCP', 'TLS'],
  UDP: ['UDP', 'TCP_UDP'],
  TCP_UDP: ['TCP_UDP'],
};

/**
 * Record that `owner` (a listener or rule ARN) forwards to `now` instead of `before`, in the caller's
 * transaction: each newly used group must exist, speak a protocol the listener can forward to, and serve no other
 * load balancer (AWS's quota: one load balancer per target group); each group's `usedBy` follows.
 */
export async function bindTargetGroups(tx: Tx, owner: string, listenerProtocol: ElbProtocol, now: readonly string[], before: readonly string[]): Promise<void> {
  const lbArn = loadBalancerArnOf(owner);
  for (const arn of now) {
    const tg = await targetGroupByArn(tx, arn);
    if (!COMPATIBLE[listenerProtocol].includes(tg.protocol)) {
      throw elbErrors.incompatible(`Listener protocol '${listenerProtocol}' is not supported with a target group with the protocol '${tg.protocol}'`);
    }
    if (loadBalancersOf(tg).some((other) => other !== lbArn)) throw elbErrors.associationLimit(tg.arn);
    if (!tg.usedBy.includes(owner)) put(tx, { ...tg, usedBy: [...tg.usedBy, owner] });
  }
  for (const arn of before) {
    if (now.includes(arn)) continue;
    const tg = await targetGroupByArn(tx, arn).catch(() => undefined);
    if (tg) put(tx, { ...tg, usedBy: tg.usedBy.filter((u) => u !== owner) });
  }
}

function put(tx: Tx, tg: TargetGroupRecord): void {
  tx.putJson(elbKeys.targetGroup(tg.name), tg);
}
