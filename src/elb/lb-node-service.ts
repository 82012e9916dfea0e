/**
 * BerthLoadBalancerNode: the two writes of the load balancer data plane (`berth lb`), as a berth-private API on
 * the shared listener. A host role never writes the store (DESIGN.md); ELBv2 has no action for "here is what my
 * health checks saw", and its Query codec is driven by AWS's model, so these two calls are a small JSON 1.1
 * service of their own (`X-Amz-Target: BerthLoadBalancerNode.<Op>`), signed with SigV4 for
 * `elasticloadbalancing` like the ELBv2 calls the same node makes, and authorized like every API:
 *
 *   ReportTargetHealth  berth-lb:ReportTargetHealth  on the target group's ARN  → setTargetHealth
 *   ReportServedBy      berth-lb:ReportServedBy      on the load balancer's ARN → setServedBy
 *   ReportTraffic       berth-lb:ReportTraffic       on each target group's ARN → AWS/ApplicationELB datapoints
 *
 * The IAM prefix is berth's own (`berth-lb`), so `elasticloadbalancing:*` (ElasticLoadBalancingFullAccess) does
 * not let a principal pose as the data plane. Its model is written here (not under models/: it is no AWS model,
 * and the fuzz and coverage tests read that directory as AWS's).
 */
import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import type { ServiceModel } from '../api/protocol/service-model.js';
import type { ActionTable } from '../api/authz/declarations.js';
import { albSamples, loadBalancerDimension, targetGroupDimension, type GroupFigures } from '../metrics/application-elb.js';
import { elbKeys } from '../state/elb-keys.js';
import { parseTargetGroup, parseTargetSet } from '../state/records/elb.js';
import { readRecord } from '../store/transact.js';
import { loadBalancerArnOf, parseLoadBalancerArn, parseTargetGroupArn } from './arns.js';
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
    ReportTraffic: { name: 'ReportTraffic', input: { shape: 'ReportTrafficInput' }, output: { shape: 'ReportTrafficOutput' } },
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
    ReportTrafficInput: {
      type: 'structure',
      required: ['Node', 'TargetGroups'],
      members: { Node: { shape: 'NodeId' }, TargetGroups: { shape: 'TargetGroupTrafficList' } },
    },
    ReportTrafficOutput: { type: 'structure', members: { Recorded: { shape: 'Count' } } },
    TargetGroupTrafficList: { type: 'list', member: { shape: 'TargetGroupTraffic' }, min: 1, max: 100 },
    TargetGroupTraffic: {
      type: 'structure',
      required: ['TargetGroupArn', 'Requests', 'Http2xx', 'Http3xx', 'Http4xx', 'Http5xx', 'ResponseTimeSum'],
      members: {
        TargetGroupArn: { shape: 'Arn' },
        Requests: { shape: 'Count' },
        Http2xx: { shape: 'Count' },
        Http3xx: { shape: 'Count' },
        Http4xx: { shape: 'Count' },
        Http5xx: { shape: 'Count' },
        ResponseTimeSum: { shape: 'Seconds' },
        ResponseTimeMin: { shape: 'Seconds' },
        ResponseTimeMax: { shape: 'Seconds' },
      },
    },
    Count: { type: 'long', min: 0, max: Number.MAX_SAFE_INTEGER },
    Seconds: { type: 'double', min: 0, max: 1e12 },
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
  ReportTraffic: {
    action: 'berth-lb:ReportTraffic',
    resources: (input: { TargetGroups?: unknown }) =>
      Array.isArray(input.TargetGroups) ? [...new Set(input.TargetGroups.map((g: { TargetGroupArn?: unknown }) => g?.TargetGroupArn).filter((a): a is string => typeof a === 'string'))] : [],
  },
};

interface TargetReportIn {
  readonly Id: string;
  readonly Port: number;
  readonly State: 'healthy' | 'unhealthy';
  readonly Reason?: HealthReport['reason'];
  readonly Description?: string;
}

interface TrafficIn {
  readonly TargetGroupArn: string;
  readonly Requests: number;
  readonly Http2xx: number;
  readonly Http3xx: number;
  readonly Http4xx: number;
  readonly Http5xx: number;
  readonly ResponseTimeSum: number;
  readonly ResponseTimeMin?: number;
  readonly ResponseTimeMax?: number;
}

/**
 * A reported target group with the dimensions and host counts the control plane's records give (never the node's
 * word): its load balancer is the one its listeners and rules belong to, its health the summed verdicts.
 * Undefined for a group deleted meanwhile or used by no application load balancer.
 */
async function figuresOf(env: Pick<ElbEnv, 'store'>, t: TrafficIn): Promise<GroupFigures | undefined> {
  const { name, id } = parseTargetGroupArn(t.TargetGroupArn);
  const [tg, set] = await Promise.all([readRecord(env.store, parseTargetGroup, elbKeys.targetGroup(name)), readRecord(env.store, parseTargetSet, elbKeys.targets(id))]);
  if (!tg || tg.id !== id) return undefined;
  const loadBalancer = tg.usedBy.map((arn) => loadBalancerDimension(loadBalancerArnOf(arn))).find((d) => d !== undefined);
  const targetGroup = targetGroupDimension(tg.arn);
  if (!loadBalancer || !targetGroup) return undefined;
  const targets = set?.targets ?? [];
  return {
    loadBalancer,
    targetGroup,
    healthy: targets.filter((x) => x.state === 'healthy').length,
    unhealthy: targets.filter((x) => x.state === 'unhealthy').length,
    registered: targets.filter((x) => x.state !== 'draining').length,
    traffic: {
      requests: t.Requests,
      http2xx: t.Http2xx,
      http3xx: t.Http3xx,
      http4xx: t.Http4xx,
      http5xx: t.Http5xx,
      responseTimeSum: t.ResponseTimeSum,
      ...(t.ResponseTimeMin !== undefined ? { responseTimeMin: t.ResponseTimeMin } : {}),
      ...(t.ResponseTimeMax !== undefined ? { responseTimeMax: t.ResponseTimeMax } : {}),
    },
  };
}

/** The data plane's reporting API (see the top of this file). */
export function lbNodeService(env: Pick<ElbEnv, 'store' | 'now' | 'metrics' | 'metricsHighResolution'>): JsonService {
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
    async ReportTraffic(input: { Node: string; TargetGroups: TrafficIn[] }) {
      for (const t of input.TargetGroups) parseTargetGroupArn(t.TargetGroupArn);
      const figures = (await Promise.all(input.TargetGroups.map((t) => figuresOf(env, t)))).filter((f): f is GroupFigures => f !== undefined);
      // Timestamped when received, by the control plane's clock: what a node says of time is not needed.
      if (figures.length > 0 && env.metrics) await env.metrics.put(albSamples(figures, env.now() / 1000, env.metricsHighResolution === true));
      return { Recorded: env.metrics ? figures.length : 0 };
    },
  };
  return { targetPrefix: LB_NODE_TARGET_PREFIX, signingNames: ['elasticloadbalancing'], model: LB_NODE_MODEL, operations, actions: lbNodeActions, inputErrorType: 'ValidationError' };
}
