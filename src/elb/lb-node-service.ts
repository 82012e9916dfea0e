/**
 * BerthLoadBalancerNode: the two writes of the load balancer data plane (`berth lb`), as a berth-private API on
 * the shared listener. A host role never writes the store (DESIGN.md); ELBv2 has no action for "here is what my
 * health checks saw", and its Query codec is driven by AWS's model, so these two calls are a small JSON 1.1
 * service of their own (`X-Amz-Target: BerthLoadBalancerNode.<Op>`), signed with SigV4 for
 * `elasticloadbalancing` like the ELBv2 calls the same node makes, and authorized like every API:
 *
 *   ReportTargetHealth  berth-lb:ReportTargetHealth  on the target group's ARN  → setTargetHealth
 *   ReportServedBy      berth-lb:ReportServedBy      on the load balancer's ARN → setServedBy
 *
 * The IAM prefix is berth's own (`berth-lb`), so `elasticloadbalancing:*` (ElasticLoadBalancingFullAccess) does
 * not let a principal pose as the data plane. Its model is written here (not under models/: it is no AWS model,
 * and the fuzz and coverage tests read that directory as AWS's).
 */
import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import type { ServiceModel } from '../api/protocol/service-model.js';
import type { ActionTable } from '../api/authz/declarations.js';
import { parseLoadBalancerArn, parseTargetGroupArn } from './arns.js';
import type { ElbEnv } from './env.js';
import { setServedBy } from './served-by.js';
import { HEALTH_REASONS, setTargetHealth, type HealthReport } from './target-health.js';

export const LB_NODE_TARGET_PREFIX = 'BerthLoadBalancerNode';

const str = (extra: object = {}) => ({ type: 'string' as const, ...extra });

/** The service's shapes, in botocore's form so the JSON protocol validates and serializes them as any AWS API's. */
export const LB_NODE_MODEL: ServiceModel = {
  metadata: { targetPrefix: LB_NODE_TARGET_PREFIX, signingName: 'elasticloadbalancing', endpointPrefix: 'berth-lb', protocol: 'json', jsonVersion: '1.1' },
  operations: {
    ReportTargetHealth: { name: 'ReportTargetHealth', input: { shape: 'ReportTargetHealthInput' }, output: { shape: 'ReportTargetHealthOutput' } },
    ReportServedBy: { name: 'ReportServedBy', input: { shape: 'ReportServedByInput' }, output: { shape: 'ReportServedByOutput' } },
  },
  shapes: {
    ReportTargetHealthInput: {
      type: 'structure',
      required: ['TargetGroupArn', 'Node', 'Targets'],
      members: { TargetGroupArn: { shape: 'Arn' }, Node: { shape: 'NodeId' }, Targets: { shape: 'TargetReports' } },
    },
    ReportTargetHealthOutput: { type: 'structure', members: { Changed: { shape: 'Boolean' } } },
    ReportServedByInput: {
      type: 'structure',
      required: ['LoadBalancerArn', 'Node', 'Address'],
      members: { LoadBalancerArn: { shape: 'Arn' }, Node: { shape: 'NodeId' }, Address: { shape: 'Address' } },
    },
    ReportServedByOutput: { type: 'structure', members: { Recorded: { shape: 'Boolean' } } },
    TargetReports: { type: 'list', member: { shape: 'TargetReport' }, max: 1000 },
    TargetReport: {
      type: 'structure',
      required: ['Id', 'Port', 'State'],
      members: { Id: { shape: 'TargetId' }, Port: { shape: 'Port' }, State: { shape: 'ReportedState' }, Reason: { shape: 'Reason' }, Description: { shape: 'Description' } },
    },
    Arn: str({ min: 1, max: 2048 }),
    NodeId: str({ min: 1, max: 255, pattern: '^[A-Za-z0-9._:-]+$' }),
    Address: str({ min: 1, max: 255 }),
    TargetId: str({ min: 1, max: 255 }),
    Port: { type: 'integer', min: 1, max: 65535 },
    ReportedState: str({ enum: ['healthy', 'unhealthy'] }),
    Reason: str({ enum: [...HEALTH_REASONS] }),
    Description: str({ max: 1024 }),
    Boolean: { type: 'boolean' },
  },
};

/** Each operation on the ARN it writes. */
export const lbNodeActions: ActionTable = {
  ReportTargetHealth: { action: 'berth-lb:ReportTargetHealth', resources: (input: { TargetGroupArn?: unknown }) => (typeof input.TargetGroupArn === 'string' ? [input.TargetGroupArn] : []) },
  ReportServedBy: { action: 'berth-lb:ReportServedBy', resources: (input: { LoadBalancerArn?: unknown }) => (typeof input.LoadBalancerArn === 'string' ? [input.LoadBalancerArn] : []) },
};

interface TargetReportIn {
  readonly Id: string;
  readonly Port: number;
  readonly State: 'healthy' | 'unhealthy';
  readonly Reason?: HealthReport['reason'];
  readonly Description?: string;
}

/** The data plane's reporting API (see the top of this file). */
export function lbNodeService(env: Pick<ElbEnv, 'store' | 'now'>): JsonService {
  const operations: Record<string, Operation> = {
    async ReportTargetHealth(input: { TargetGroupArn: string; Node: string; Targets: TargetReportIn[] }) {
      parseTargetGroupArn(input.TargetGroupArn);
      const reports: HealthReport[] = input.Targets.map((t) => ({
        id: t.Id,
        port: t.Port,
        state: t.State,
        ...(t.Reason !== undefined ? { reason: t.Reason } : {}),
        ...(t.Description !== undefined ? { description: t.Description } : {}),
      }));
      return { Changed: await setTargetHealth(env.store, input.TargetGroupArn, reports, input.Node, env.now()) };
    },
    async ReportServedBy(input: { LoadBalancerArn: string; Node: string; Address: string }) {
      parseLoadBalancerArn(input.LoadBalancerArn);
      return { Recorded: await setServedBy(env.store, input.LoadBalancerArn, input.Node, input.Address, env.now()) };
    },
  };
  return { targetPrefix: LB_NODE_TARGET_PREFIX, signingNames: ['elasticloadbalancing'], model: LB_NODE_MODEL, operations, actions: lbNodeActions, inputErrorType: 'ValidationError' };
}
