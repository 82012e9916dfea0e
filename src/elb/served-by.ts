import { elbKeys } from '../state/elb-keys.js';
import { parseLoadBalancer, type LoadBalancerRecord } from '../state/records/elb.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { parseLoadBalancerArn } from './arns.js';

/**
 * The data plane's other write: `node` (a `berth lb`) now serves the listeners of the load balancer at `arn` on
 * `address` (DescribeLoadBalancers shows it as each zone's LoadBalancerAddresses). One compare-and-swap
 * transaction on the load balancer's record; a load balancer deleted meanwhile is no error. Returns whether it
 * was recorded.
 */
export async function setServedBy(store: Store, arn: string, node: string, address: string, now = Date.now()): Promise<boolean> {
  const { name } = parseLoadBalancerArn(arn);
  return transact(store, async (tx) => {
    const lb = await tx.getRecord(parseLoadBalancer, elbKeys.loadBalancer(name));
    if (!lb || lb.arn !== arn) return false;
    tx.putJson(elbKeys.loadBalancer(name), { ...lb, servedBy: { node, address, reportedAt: now } } satisfies LoadBalancerRecord);
    return true;
  });
}
