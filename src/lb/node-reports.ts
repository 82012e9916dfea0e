/**
 * The client side of BerthLoadBalancerNode (the control plane's src/elb/lb-node-service.ts): AWS JSON 1.1 requests
 * (`X-Amz-Target: BerthLoadBalancerNode.<Op>`) signed with SigV4 for `elasticloadbalancing` with the node's own
 * credentials — the same identity its ELBv2 calls use. No SDK client exists for a berth-private API, so the request
 * is built and signed by process/signed-json-call.ts with the SDK's own signer.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { signedJsonCaller } from '../process/signed-json-call.js';
import type { TargetReport } from './elbv2-translation.js';
import type { NodeReports } from './follower.js';
import type { TargetGroupTraffic } from './traffic-counters.js';
import type { TrafficReports } from './traffic-reporter.js';

/** A report the control plane refused or could not take; `type` is its error code. */
export class NodeReportError extends Error {
  override readonly name = 'NodeReportError';
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface NodeReportsOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly timeoutMs?: number;
}

/** Reports over HTTP to `endpoint`. */
export function nodeReportsClient(options: NodeReportsOptions): NodeReports & TrafficReports {
  const call = signedJsonCaller({
    ...options,
    service: 'elasticloadbalancing',
    targetPrefix: 'BerthLoadBalancerNode',
    refused: (type, operation, message) => new NodeReportError(type, `${operation}: ${message}`),
  });
  return {
    async reportTargetHealth(targetGroupArn: string, node: string, targets: readonly TargetReport[]) {
      await call('ReportTargetHealth', { TargetGroupArn: targetGroupArn, Node: node, Targets: targets });
    },
    async reportServedBy(loadBalancerArn: string, node: string, address: string) {
      await call('ReportServedBy', { LoadBalancerArn: loadBalancerArn, Node: node, Address: address });
    },
    async reportTraffic(node: string, traffic: readonly TargetGroupTraffic[]) {
      await call('ReportTraffic', { Node: node, TargetGroups: traffic });
    },
  };
}
