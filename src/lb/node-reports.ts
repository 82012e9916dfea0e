/**
 * The client side of BerthLoadBalancerNode (the control plane's src/elb/lb-node-service.ts): AWS JSON 1.1 requests
 * (`X-Amz-Target: BerthLoadBalancerNode.<Op>`) signed with SigV4 for `elasticloadbalancing` with the node's own
 * credentials — the same identity its ELBv2 calls use. No SDK client exists for a berth-private API, so the request
 * is built and signed here with the SDK's own signer (@smithy/signature-v4, already a dependency of the agent).
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
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
  const signer = new SignatureV4({ credentials: options.credentials, region: options.region, service: 'elasticloadbalancing', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const url = new URL(options.endpoint);
  const call = async (op: string, input: object): Promise<unknown> => {
    const body = JSON.stringify(input);
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: '/',
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `BerthLoadBalancerNode.${op}` },
        body,
      }),
    );
    const { host: _host, ...headers } = signed.headers;
    const res = await fetch(new URL('/', url), { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw new NodeReportError(String(json.__type ?? res.status), `${op}: ${String(json.message ?? text)}`);
    return json;
  };
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
