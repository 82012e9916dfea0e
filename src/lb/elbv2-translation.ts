/**
 * From what the ELBv2 API describes to what the HAProxy driver serves, and from the driver's health verdicts back
 * to the reports the control plane records. Pure: `follower.ts` does the calls. Names are the API's (SDK shapes),
 * ids are the last segment of each ARN (HAProxy object names are built from them).
 *
 * What is served: every load balancer that is `active` or `provisioning` (its listeners are created at once);
 * HTTP and TCP listeners (HTTPS/TLS/UDP ones are skipped: no certificates in berth); the first listener on a port
 * (by load balancer name) when two load balancers ask for the same one; HTTP and TCP target groups; every
 * registered target but draining ones (leaving the desired state is how the driver starts their drain, which
 * honours the group's deregistration delay). Instance targets are served on their container instance's host address
 * (`berth.host-address`) when `instanceAddress` knows it, else left out (see docs/architecture.md). Everything left out is listed in
 * `skipped`, so the node can say why.
 */
import type {
  Action as ApiAction,
  Listener as ApiListener,
  LoadBalancer as ApiLoadBalancer,
  Rule as ApiRule,
  RuleCondition as ApiCondition,
  TargetGroup as ApiTargetGroup,
  TargetGroupAttribute,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ALGORITHMS,
  DEFAULT_ATTRIBUTES,
  defaultHealthCheck,
  targetKey,
  type Action,
  type Algorithm,
  type DesiredState,
  type HealthCheck,
  type Listener,
  type LoadBalancer,
  type Rule,
  type RuleCondition,
  type Target,
  type TargetGroup,
  type TargetGroupAttributes,
} from './desired.js';

/** One poll's view of the region's load balancing, as the ELBv2 API describes it. */
export interface Elbv2Snapshot {
  readonly loadBalancers: readonly ApiLoadBalancer[];
  /** By load balancer ARN. */
  readonly listeners: ReadonlyMap<string, readonly ApiListener[]>;
  /** By listener ARN (the default rule included or not: it is ignored). */
  readonly rules: ReadonlyMap<string, readonly ApiRule[]>;
  readonly targetGroups: readonly ApiTargetGroup[];
  /** By target group ARN. */
  readonly attributes: ReadonlyMap<string, readonly TargetGroupAttribute[]>;
  /** By target group ARN. */
  readonly targets: ReadonlyMap<string, readonly TargetHealthDescription[]>;
}

/** Where a served target came from: its group's ARN and its ELBv2 identity (instance id or IP, and port). */
export interface TargetOrigin {
  readonly targetGroupArn: string;
  readonly id: string;
  readonly port: number;
}

export interface Translation {
  readonly desired: DesiredState;
  /** Target group id → ARN. */
  readonly targetGroupArns: ReadonlyMap<string, string>;
  /** `<tgId>/<address>:<port>` → the target's ELBv2 identity. */
  readonly origins: ReadonlyMap<string, TargetOrigin>;
  /** ARNs of the load balancers with at least one listener served. */
  readonly servedLoadBalancers: readonly string[];
  /** What could not be served, and why. */
  readonly skipped: readonly string[];
}

/** The last segment of an ARN: the id HAProxy names are built from. */
export const idOf = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/** The key {@link Translation.origins} uses. */
export const originKey = (targetGroupId: string, t: Target): string => `${targetGroupId}/${targetKey(t)}`;

/** Translate a snapshot; `instanceAddress` gives an instance target's host address (undefined: unknown). */
export function translate(snapshot: Elbv2Snapshot, instanceAddress: (instanceId: string) => string | undefined = () => undefined): Translation {
  const skipped: string[] = [];
  const targetGroupArns = new Map<string, string>();
  const origins = new Map<string, TargetOrigin>();
  const groups = new Map<string, TargetGroup>();
  for (const tg of snapshot.targetGroups) {
    const arn = tg.TargetGroupArn ?? '';
    if (tg.Protocol !== 'HTTP' && tg.Protocol !== 'TCP') {
      skipped.push(`target group ${tg.TargetGroupName}: protocol ${tg.Protocol} is not served`);
      continue;
    }
    const id = idOf(arn);
    const targets: Target[] = [];
    for (const d of snapshot.targets.get(arn) ?? []) {
      const t = d.Target;
      if (!t?.Id || d.TargetHealth?.State === 'draining') continue;
      const port = t.Port ?? tg.Port;
      if (port === undefined) continue;
      const address = tg.TargetType === 'instance' ? instanceAddress(t.Id) : t.Id;
      if (address === undefined) {
        skipped.push(`target ${t.Id}:${port} of ${tg.TargetGroupName}: no container instance with this id registers berth.host-address`);
        continue;
      }
      const target = { address, port };
      if (origins.has(originKey(id, target))) continue;
      targets.push(target);
      origins.set(originKey(id, target), { targetGroupArn: arn, id: t.Id, port });
    }
    targetGroupArns.set(id, arn);
    groups.set(arn, {
      id,
      name: tg.TargetGroupName ?? id,
      protocol: tg.Protocol,
      healthCheck: healthCheckOf(tg),
      attributes: attributesOf(snapshot.attributes.get(arn) ?? []),
      targets,
    });
  }

  const loadBalancers: LoadBalancer[] = [];
  const servedLoadBalancers: string[] = [];
  const ports = new Set<number>();
  const byName = [...snapshot.loadBalancers].sort((a, b) => (a.LoadBalancerName ?? '').localeCompare(b.LoadBalancerName ?? ''));
  for (const lb of byName) {
    const state = lb.State?.Code;
    if (state !== 'active' && state !== 'provisioning') continue;
    if (lb.Type !== 'application' && lb.Type !== 'network') continue;
    const lbArn = lb.LoadBalancerArn ?? '';
    const listeners: Listener[] = [];
    for (const l of snapshot.listeners.get(lbArn) ?? []) {
      const where = `listener ${l.Port}/${l.Protocol} of ${lb.LoadBalancerName}`;
      if (l.Protocol !== 'HTTP' && l.Protocol !== 'TCP') {
        skipped.push(`${where}: protocol ${l.Protocol} is not served`);
        continue;
      }
      if (l.Port === undefined || ports.has(l.Port)) {
        skipped.push(`${where}: port already served by another load balancer`);
        continue;
      }
      const defaultAction = actionOf(l.DefaultActions ?? [], groups, l.Protocol);
      if (!defaultAction || (l.Protocol === 'TCP' && defaultAction.type !== 'forward')) {
        skipped.push(`${where}: its default action forwards to no served target group`);
        continue;
      }
      const rules: Rule[] = [];
      if (l.Protocol === 'HTTP') {
        for (const r of snapshot.rules.get(l.ListenerArn ?? '') ?? []) {
          if (r.IsDefault || r.Priority === 'default') continue;
          const action = actionOf(r.Actions ?? [], groups, 'HTTP');
          if (!action) {
            skipped.push(`rule ${r.RuleArn}: its action forwards to no served target group`);
            continue;
          }
          rules.push({ id: idOf(r.RuleArn ?? ''), priority: Number(r.Priority), conditions: (r.Conditions ?? []).flatMap(conditionOf), action });
        }
      }
      ports.add(l.Port);
      listeners.push({ id: idOf(l.ListenerArn ?? ''), port: l.Port, protocol: l.Protocol, defaultAction, rules: rules.sort((a, b) => a.priority - b.priority) });
    }
    if (listeners.length === 0) continue;
    loadBalancers.push({ id: idOf(lbArn), name: lb.LoadBalancerName ?? idOf(lbArn), type: lb.Type, listeners });
    servedLoadBalancers.push(lbArn);
  }
  const desired = { loadBalancers, targetGroups: [...groups.values()].sort((a, b) => a.id.localeCompare(b.id)) };
  return { desired, targetGroupArns, origins, servedLoadBalancers, skipped };
}

/**
 * The terminal action of a list (ELBv2 orders them; authenticate actions come first and are not served). A
 * forward's groups are those served; a forward left with none answers 503 as an ALB with no target does —
 * undefined for a TCP listener, which cannot answer anything.
 */
function actionOf(actions: readonly ApiAction[], groups: ReadonlyMap<string, TargetGroup>, protocol: 'HTTP' | 'TCP'): Action | undefined {
  const last = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0)).at(-1);
  if (!last) return undefined;
  switch (last.Type) {
    case 'forward': {
      const weighted = last.ForwardConfig?.TargetGroups?.length
        ? last.ForwardConfig.TargetGroups.map((w) => ({ arn: w.TargetGroupArn ?? '', weight: w.Weight ?? 1 }))
        : [{ arn: last.TargetGroupArn ?? '', weight: 1 }];
      const served = weighted.filter((w) => groups.get(w.arn)?.protocol === protocol).map((w) => ({ targetGroupId: groups.get(w.arn)!.id, weight: w.weight }));
      if (served.length > 0) return { type: 'forward', targetGroups: served };
      return protocol === 'HTTP' ? { type: 'fixed-response', statusCode: 503, contentType: 'text/plain', messageBody: '' } : undefined;
    }
    case 'fixed-response': {
      const c = last.FixedResponseConfig;
      return {
        type: 'fixed-response',
        statusCode: Number(c?.StatusCode ?? 200),
        ...(c?.ContentType !== undefined ? { contentType: c.ContentType } : {}),
        ...(c?.MessageBody !== undefined ? { messageBody: c.MessageBody } : {}),
      };
    }
    case 'redirect': {
      const c = last.RedirectConfig;
      return {
        type: 'redirect',
        statusCode: c?.StatusCode === 'HTTP_302' ? 'HTTP_302' : 'HTTP_301',
        ...(c?.Protocol !== undefined ? { protocol: c.Protocol } : {}),
        ...(c?.Host !== undefined ? { host: c.Host } : {}),
        ...(c?.Port !== undefined ? { port: c.Port } : {}),
        ...(c?.Path !== undefined ? { path: c.Path } : {}),
        ...(c?.Query !== undefined ? { query: c.Query } : {}),
      };
    }
    default:
      return undefined;
  }
}

/** A condition from its typed config, or from the legacy `Values` (path-pattern and host-header only). */
function conditionOf(c: ApiCondition): RuleCondition[] {
  switch (c.Field) {
    case 'path-pattern':
      return [{ field: 'path-pattern', values: c.PathPatternConfig?.Values ?? c.Values ?? [] }];
    case 'host-header':
      return [{ field: 'host-header', values: c.HostHeaderConfig?.Values ?? c.Values ?? [] }];
    case 'http-header':
      return [{ field: 'http-header', httpHeaderName: c.HttpHeaderConfig?.HttpHeaderName ?? '', values: c.HttpHeaderConfig?.Values ?? [] }];
    case 'http-request-method':
      return [{ field: 'http-request-method', values: c.HttpRequestMethodConfig?.Values ?? [] }];
    case 'query-string':
      return [{ field: 'query-string', values: (c.QueryStringConfig?.Values ?? []).map((v) => ({ ...(v.Key !== undefined ? { key: v.Key } : {}), value: v.Value ?? '' })) }];
    case 'source-ip':
      return [{ field: 'source-ip', values: c.SourceIpConfig?.Values ?? [] }];
    default:
      return [];
  }
}

function healthCheckOf(tg: ApiTargetGroup): HealthCheck {
  const protocol = tg.Protocol === 'TCP' ? 'TCP' : 'HTTP';
  const d = defaultHealthCheck(protocol);
  // An HTTPS check (no TLS to targets in berth) is run as a TCP connect.
  const hcProtocol = tg.HealthCheckProtocol === 'HTTP' ? 'HTTP' : tg.HealthCheckProtocol === undefined ? d.protocol : 'TCP';
  const port = tg.HealthCheckPort === undefined || tg.HealthCheckPort === 'traffic-port' ? 'traffic-port' : Number(tg.HealthCheckPort);
  return {
    protocol: hcProtocol,
    path: tg.HealthCheckPath ?? d.path,
    port: Number.isInteger(port) ? port : 'traffic-port',
    intervalSeconds: tg.HealthCheckIntervalSeconds ?? d.intervalSeconds,
    timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? d.timeoutSeconds,
    healthyThreshold: tg.HealthyThresholdCount ?? d.healthyThreshold,
    unhealthyThreshold: tg.UnhealthyThresholdCount ?? d.unhealthyThreshold,
    matcher: tg.Matcher?.HttpCode ?? d.matcher,
  };
}

function attributesOf(attributes: readonly TargetGroupAttribute[]): TargetGroupAttributes {
  const get = (key: string) => attributes.find((a) => a.Key === key)?.Value;
  const num = (key: string, fallback: number) => {
    const v = Number(get(key));
    return get(key) !== undefined && Number.isFinite(v) ? v : fallback;
  };
  const algorithm = get('load_balancing.algorithm.type');
  return {
    deregistrationDelaySeconds: num('deregistration_delay.timeout_seconds', DEFAULT_ATTRIBUTES.deregistrationDelaySeconds),
    slowStartSeconds: num('slow_start.duration_seconds', DEFAULT_ATTRIBUTES.slowStartSeconds),
    stickiness: {
      // Only duration-based lb_cookie stickiness is served (app_cookie/source_ip are not).
      enabled: get('stickiness.enabled') === 'true' && (get('stickiness.type') ?? 'lb_cookie') === 'lb_cookie',
      type: 'lb_cookie',
      durationSeconds: num('stickiness.lb_cookie.duration_seconds', DEFAULT_ATTRIBUTES.stickiness.durationSeconds),
    },
    algorithm: ALGORITHMS.includes(algorithm as Algorithm) ? (algorithm as Algorithm) : DEFAULT_ATTRIBUTES.algorithm,
  };
}

/** The reasons the control plane accepts with a report (its HEALTH_REASONS). */
const REPORTABLE_REASONS = new Set(['Target.ResponseCodeMismatch', 'Target.Timeout', 'Target.FailedHealthChecks', 'Elb.InitialHealthChecking', 'Elb.InternalError']);

/** One target's report, in the wire shape of BerthLoadBalancerNode.ReportTargetHealth. */
export interface TargetReport {
  readonly Id: string;
  readonly Port: number;
  readonly State: 'healthy' | 'unhealthy';
  readonly Reason?: string;
  readonly Description?: string;
}

/** A verdict of the driver (`lb-driver.ts`'s TargetHealth, structurally). */
export interface Verdict {
  readonly targetGroupId: string;
  readonly target: Target;
  readonly state: string;
  readonly reason?: string;
  readonly description?: string;
}

/**
 * The reports to send: each healthy/unhealthy verdict the API does not show yet (its state, or an unhealthy
 * reason that changed), grouped by target group ARN — or, on a heartbeat, every verdict, because the control plane
 * sums several nodes' verdicts and forgets a node's after 30 s of silence (elb/serving-nodes.ts). Comparing with
 * what the API shows, rather than sending each change once, also repairs a report lost in flight or undone by a
 * re-registration.
 */
export function reportsToSend(translation: Translation, verdicts: readonly Verdict[], shown: Elbv2Snapshot['targets'], heartbeat = false): Map<string, TargetReport[]> {
  const out = new Map<string, TargetReport[]>();
  for (const v of verdicts) {
    if (v.state !== 'healthy' && v.state !== 'unhealthy') continue;
    const origin = translation.origins.get(originKey(v.targetGroupId, v.target));
    if (!origin) continue;
    const now = (shown.get(origin.targetGroupArn) ?? []).find((d) => d.Target?.Id === origin.id && (d.Target?.Port ?? origin.port) === origin.port)?.TargetHealth;
    if (!now || now.State === 'draining' || now.State === 'unused') continue;
    if (!heartbeat && now.State === v.state && (v.state === 'healthy' || now.Reason === v.reason)) continue;
    const report: TargetReport = {
      Id: origin.id,
      Port: origin.port,
      State: v.state,
      ...(v.state === 'unhealthy' && v.reason && REPORTABLE_REASONS.has(v.reason) ? { Reason: v.reason } : {}),
      ...(v.state === 'unhealthy' && v.description ? { Description: v.description.slice(0, 1024) } : {}),
    };
    out.set(origin.targetGroupArn, [...(out.get(origin.targetGroupArn) ?? []), report]);
  }
  return out;
}

/** Load balancers whose DescribeLoadBalancers does not show `address` yet (every served one on a heartbeat). */
export function servedByToSend(translation: Translation, snapshot: Elbv2Snapshot, address: string, heartbeat = false): string[] {
  return translation.servedLoadBalancers.filter((arn) => {
    if (heartbeat) return true;
    const lb = snapshot.loadBalancers.find((l) => l.LoadBalancerArn === arn);
    const shown = lb?.AvailabilityZones?.flatMap((z) => z.LoadBalancerAddresses ?? []).map((a) => a.IpAddress) ?? [];
    return !shown.includes(address);
  });
}

/** Served targets DescribeTargetHealth shows healthy (the last verdict a node reported). */
export function provenHealthy(translation: Translation, shown: Elbv2Snapshot['targets']): { targetGroupId: string; target: Target }[] {
  const out: { targetGroupId: string; target: Target }[] = [];
  for (const tg of translation.desired.targetGroups) {
    for (const target of tg.targets) {
      const origin = translation.origins.get(originKey(tg.id, target));
      if (!origin) continue;
      const state = (shown.get(origin.targetGroupArn) ?? []).find((d) => d.Target?.Id === origin.id && (d.Target?.Port ?? origin.port) === origin.port)?.TargetHealth?.State;
      if (state === 'healthy') out.push({ targetGroupId: tg.id, target });
    }
  }
  return out;
}
