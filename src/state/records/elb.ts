import { recordParser } from './codec.js';

/**
 * Elastic Load Balancing v2's records (keys in state/elb-keys.ts). Relations a check depends on live in the
 * record that every writer of the relation reads, so the check and the change are one compare-and-swap
 * transaction: a load balancer lists its listeners' ports (DuplicateListener), a listener its rules' priorities
 * (PriorityInUse, TooManyRules), a target group the listeners and rules forwarding to it (ResourceInUse, its
 * LoadBalancerArns), and one record per target group holds all its targets (TooManyTargets, health updates).
 * Timestamps are epoch milliseconds.
 */

export interface ElbTag {
  readonly Key: string;
  readonly Value?: string;
}

export type LoadBalancerType = 'application' | 'network';
export type LoadBalancerStateCode = 'provisioning' | 'active' | 'active_impaired' | 'failed';

/** A subnet the load balancer was given, and the zone berth assigned it (berth has no VPC: both are labels). */
export interface ElbSubnet {
  readonly subnetId: string;
  readonly zoneName: string;
}

/**
 * One `berth lb` node serving the load balancer's listeners, written by the data plane (not by the API):
 * `address` is the IP its listeners are bound on (DescribeLoadBalancers shows every live node's as each zone's
 * LoadBalancerAddresses). Nodes re-report while they serve; one silent past `NODE_STALE_MS` (elb/serving-nodes.ts)
 * is no longer shown.
 */
export interface ElbServingNode {
  readonly address: string;
  /** Epoch ms of the node's last report. */
  readonly reportedAt: number;
}

/** The single-node form records written before several nodes were supported (read, never written). */
export interface LegacyServedBy {
  readonly node: string;
  readonly address: string;
  readonly reportedAt: number;
}

export interface LoadBalancerRecord {
  readonly arn: string;
  readonly name: string;
  /** The 16-hex id closing the ARN (also in the DNS name). */
  readonly id: string;
  readonly type: LoadBalancerType;
  readonly scheme: 'internet-facing' | 'internal';
  readonly ipAddressType: string;
  readonly subnets: readonly ElbSubnet[];
  readonly securityGroups: readonly string[];
  readonly dnsName: string;
  readonly createdTime: number;
  readonly state: { readonly code: LoadBalancerStateCode; readonly reason?: string };
  /** Every attribute with its value (AWS's defaults filled at creation). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: readonly ElbTag[];
  /** Listener id → port: DuplicateListener and TooManyListeners are checked against it. */
  readonly listeners: Readonly<Record<string, number>>;
  /** Node id → where it serves (a record of the older single-node form is read by `servingNodes`). */
  readonly servedBy?: Readonly<Record<string, ElbServingNode>> | LegacyServedBy;
}

export type ElbProtocol = 'HTTP' | 'HTTPS' | 'TCP' | 'TLS' | 'UDP' | 'TCP_UDP';

export interface HealthCheckSettings {
  readonly protocol: ElbProtocol;
  /** `traffic-port` or a port number as text (AWS's own representation). */
  readonly port: string;
  readonly enabled: boolean;
  readonly path?: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** HTTP codes (`200`, `200,202`, `200-299`) for HTTP and HTTPS health checks. */
  readonly matcher?: string;
}

export interface TargetGroupRecord {
  readonly arn: string;
  readonly name: string;
  readonly id: string;
  readonly protocol: ElbProtocol;
  readonly protocolVersion?: string;
  readonly port: number;
  readonly targetType: 'instance' | 'ip';
  readonly vpcId?: string;
  readonly ipAddressType: string;
  readonly healthCheck: HealthCheckSettings;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: readonly ElbTag[];
  /** ARNs of the listeners and rules whose actions forward to it (their ARNs name the load balancer). */
  readonly usedBy: readonly string[];
  readonly createdTime: number;
}

/** An action as the API takes and shows it (Type, TargetGroupArn, ForwardConfig, RedirectConfig, …), normalized. */
export type ElbAction = Readonly<Record<string, unknown>> & { readonly Type: string };
export type ElbCondition = Readonly<Record<string, unknown>> & { readonly Field: string };

export interface ListenerRecord {
  readonly arn: string;
  readonly id: string;
  readonly loadBalancerArn: string;
  readonly port: number;
  readonly protocol: ElbProtocol;
  readonly sslPolicy?: string;
  readonly certificates?: readonly { readonly CertificateArn?: string; readonly IsDefault?: boolean }[];
  readonly alpnPolicy?: readonly string[];
  readonly defaultActions: readonly ElbAction[];
  /** The id of its default rule (DescribeRules shows it, IsDefault, its actions the listener's). */
  readonly defaultRuleId: string;
  /** Rule id → priority, for PriorityInUse and TooManyRules. */
  readonly rules: Readonly<Record<string, number>>;
  readonly tags: readonly ElbTag[];
}

export interface RuleRecord {
  readonly arn: string;
  readonly id: string;
  readonly listenerArn: string;
  readonly priority: number;
  readonly conditions: readonly ElbCondition[];
  readonly actions: readonly ElbAction[];
  readonly tags: readonly ElbTag[];
}

/**
 * A target's stored health. `unused` is not stored: it is how an `initial` target of a group no listener uses is
 * shown. The data plane writes healthy/unhealthy (elb/target-health.ts); the API writes initial and draining.
 */
export type StoredTargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining';

export interface TargetRecord {
  readonly id: string;
  readonly port: number;
  readonly availabilityZone?: string;
  readonly registeredAt: number;
  readonly state: StoredTargetState;
  /** AWS's reason code (Target.Timeout, Target.ResponseCodeMismatch, …) with the data plane's verdicts. */
  readonly reason?: string;
  readonly description?: string;
  /** Who reported the verdict the current health comes from (a `berth lb` node) and when (epoch ms). */
  readonly reportedBy?: string;
  readonly reportedAt?: number;
  /** Each node's own verdict (several `berth lb` nodes check every target); the state above is their sum. */
  readonly verdicts?: Readonly<Record<string, NodeVerdict>>;
  /** While draining: when the leader removes it (deregistration time + deregistration_delay). */
  readonly drainUntil?: number;
}

/** One `berth lb` node's verdict on a target, from its own health checks. */
export interface NodeVerdict {
  readonly state: 'healthy' | 'unhealthy';
  readonly reason?: string;
  readonly description?: string;
  /** Epoch ms of the node's last report of it. */
  readonly at: number;
}

/** All targets of one target group. */
export interface TargetSetRecord {
  readonly targetGroupArn: string;
  readonly targets: readonly TargetRecord[];
}

export const parseLoadBalancer = recordParser<LoadBalancerRecord>('load balancer', {
  arn: 'string',
  name: 'string',
  id: 'string',
  type: 'string',
  dnsName: 'string',
  subnets: 'array',
  securityGroups: 'array',
  createdTime: 'number',
  'state.code': 'string',
  attributes: 'object',
  tags: 'array',
  listeners: 'object',
});
export const parseTargetGroup = recordParser<TargetGroupRecord>('target group', {
  arn: 'string',
  name: 'string',
  id: 'string',
  protocol: 'string',
  port: 'number',
  targetType: 'string',
  healthCheck: 'object',
  'healthCheck.protocol': 'string',
  attributes: 'object',
  tags: 'array',
  usedBy: 'array',
});
export const parseListener = recordParser<ListenerRecord>('listener', {
  arn: 'string',
  id: 'string',
  loadBalancerArn: 'string',
  port: 'number',
  protocol: 'string',
  defaultActions: 'array',
  defaultRuleId: 'string',
  rules: 'object',
  tags: 'array',
});
export const parseRule = recordParser<RuleRecord>('listener rule', {
  arn: 'string',
  id: 'string',
  listenerArn: 'string',
  priority: 'number',
  conditions: 'array',
  actions: 'array',
  tags: 'array',
});
export const parseTargetSet = recordParser<TargetSetRecord>('target set', { targetGroupArn: 'string', targets: 'array' });
