import { elbKeys } from '../state/elb-keys.js';
import { parseLoadBalancer, type LoadBalancerRecord } from '../state/records/elb.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { parseLoadBalancerArn } from './arns.js';
import { withServingNode } from './serving-nodes.js';

/**
 * The data plane's other write: `node` (a `berth lb`) serves the listeners of the load balancer at `arn` on
 * `address` (DescribeLoadBalancers shows every live node's address as each zone's LoadBalancerAddresses; see
 * serving-nodes.ts). Nodes send it again as a heartbeat; one compare-and-swap transaction on the load balancer's
 * record, written only when the entry changed or is due a refresh. A load balancer deleted meanwhile is no error.
 * Returns whether the load balancer exists (the report is recorded).
 */
export async function setServedBy(store: Store, arn: string, node: string, address: string, now = Date.now()): Promise<boolean> {
  const { name } = parseLoadBalancerArn(arn);
  return transact(store, async (tx) => {
    const lb = await tx.getRecord(parseLoadBalancer, elbKeys.loadBalancer(name));
    if (!lb || lb.arn !== arn) return false;
    const servedBy = withServingNode(lb, node, address, now);
    if (servedBy) tx.putJson(elbKeys.loadBalancer(name), { ...lb, servedBy } satisfies LoadBalancerRecord);
    return true;
  });
}
