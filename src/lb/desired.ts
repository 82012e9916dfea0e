/**
 * What a `berth lb` node is asked to serve: its load balancers, their listeners and rules, and the target
 * groups they forward to, in ELBv2's own concepts and names so that the wiring from the ELBv2 API is a
 * translation, not a redesign. Pure: no I/O. The HAProxy driver renders it (`haproxy-config.ts`) and
 * applies changes to it (`lb-driver.ts`); `planChange` decides which changes need a reload and which
 * go through the runtime API.
 */

/** ELBv2 listener protocols this data plane serves: HTTP listeners run `mode http`, TCP ones `mode tcp`. */
export const LISTENER_PROTOCOLS = ['HTTP', 'TCP'] as const;
export type ListenerProtocol = (typeof LISTENER_PROTOCOLS)[number];

export const TARGET_GROUP_PROTOCOLS = ['HTTP', 'TCP'] as const;
export type TargetGroupProtocol = (typeof TARGET_GROUP_PROTOCOLS)[number];

export const HEALTH_CHECK_PROTOCOLS = ['HTTP', 'TCP'] as const;
export type HealthCheckProtocol = (typeof HEALTH_CHECK_PROTOCOLS)[number];

export const ALGORITHMS = ['round_robin', 'least_outstanding_requests'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** A rule condition, one per ELBv2 `Field`; a condition's values are ORed, a rule's conditions ANDed. */
export type RuleCondition =
  | { readonly field: 'path-pattern'; readonly values: readonly string[] }
  | { readonly field: 'host-header'; readonly values: readonly string[] }
  | { readonly field: 'http-header'; readonly httpHeaderName: string; readonly values: readonly string[] }
  | { readonly field: 'http-request-method'; readonly values: readonly string[] }
  | { readonly field: 'query-string'; readonly values: readonly { readonly key?: string; readonly value: string }[] }
  | { readonly field: 'source-ip'; readonly values: readonly string[] };

/** One target group of a forward action, with its ELBv2 weight (0-999). */
export interface WeightedTargetGroup {
  readonly targetGroupId: string;
  readonly weight: number;
}

/** ELBv2 actions. A redirect's fields may use `#{protocol}`, `#{host}`, `#{port}`, `#{path}`, `#{query}`. */
export type Action =
  | { readonly type: 'forward'; readonly targetGroups: readonly WeightedTargetGroup[] }
  | { readonly type: 'fixed-response'; readonly statusCode: number; readonly contentType?: string; readonly messageBody?: string }
  | {
      readonly type: 'redirect';
      readonly statusCode: 'HTTP_301' | 'HTTP_302';
      readonly protocol?: string;
      readonly host?: string;
      readonly port?: string;
      readonly path?: string;
      readonly query?: string;
    };

export interface Rule {
  readonly id: string;
  /** 1-50000; lower is evaluated first. */
  readonly priority: number;
  readonly conditions: readonly RuleCondition[];
  readonly action: Action;
}

export interface Listener {
  readonly id: string;
  readonly port: number;
  readonly protocol: ListenerProtocol;
  readonly defaultAction: Action;
  /** HTTP listeners only (an NLB listener has only its default action). */
  readonly rules: readonly Rule[];
}

export interface LoadBalancer {
  readonly id: string;
  readonly name: string;
  readonly type: 'application' | 'network';
  readonly listeners: readonly Listener[];
}

export interface HealthCheck {
  readonly protocol: HealthCheckProtocol;
  /** HTTP checks only. */
  readonly path: string;
  /** `traffic-port` (the target's own port) or another port. */
  readonly port: 'traffic-port' | number;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** ELBv2 `Matcher.HttpCode`: `200`, `200,202`, `200-299`. */
  readonly matcher: string;
}

export interface TargetGroupAttributes {
  readonly deregistrationDelaySeconds: number;
  readonly slowStartSeconds: number;
  readonly stickiness: { readonly enabled: boolean; readonly type: 'lb_cookie'; readonly durationSeconds: number };
  readonly algorithm: Algorithm;
}

/** A registered target: an address (instance's or task's IP) and a port. */
export interface Target {
  readonly address: string;
  readonly port: number;
}

export interface TargetGroup {
  readonly id: string;
  readonly name: string;
  readonly protocol: TargetGroupProtocol;
  readonly healthCheck: HealthCheck;
  readonly attributes: TargetGroupAttributes;
  readonly targets: readonly Target[];
}

/** Everything one node serves. */
export interface DesiredState {
  readonly loadBalancers: readonly LoadBalancer[];
  readonly targetGroups: readonly TargetGroup[];
}

/** ELBv2's defaults for a target group's attributes. */
export const DEFAULT_ATTRIBUTES: TargetGroupAttributes = {
  deregistrationDelaySeconds: 300,
  slowStartSeconds: 0,
  stickiness: { enabled: false, type: 'lb_cookie', durationSeconds: 86_400 },
  algorithm: 'round_robin',
};

/** ELBv2's default health check for a target group of `protocol` (ALB: 200 on `/`; NLB: a TCP connect). */
export function defaultHealthCheck(protocol: TargetGroupProtocol): HealthCheck {
  return protocol === 'HTTP'
    ? { protocol: 'HTTP', path: '/', port: 'traffic-port', intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 5, unhealthyThreshold: 2, matcher: '200' }
    : { protocol: 'TCP', path: '/', port: 'traffic-port', intervalSeconds: 30, timeoutSeconds: 10, healthyThreshold: 5, unhealthyThreshold: 2, matcher: '200-399' };
}

/** The key a target is known by in a target group (ELBv2 identifies a target by id and port). */
export function targetKey(t: Target): string {
  return `${t.address}:${t.port}`;
}

/** A desired state that cannot be served; the message names the field. */
export class InvalidDesiredStateError extends Error {
  override readonly name = 'InvalidDesiredStateError';
}

/**
 * Check what rendering relies on: unique ids, ports, priorities, known target groups, sane numbers.
 * The ELBv2 API validates requests in its own words; this is the data plane's last line.
 */
export function validateDesiredState(state: DesiredState): void {
  const tgIds = new Set<string>();
  for (const tg of state.targetGroups) {
    if (tgIds.has(tg.id)) throw new InvalidDesiredStateError(`targetGroups: duplicate id ${tg.id}`);
    tgIds.add(tg.id);
    const hc = tg.healthCheck;
    if (hc.intervalSeconds < 1 || hc.timeoutSeconds < 1 || hc.healthyThreshold < 1 || hc.unhealthyThreshold < 1)
      throw new InvalidDesiredStateError(`targetGroups[${tg.id}].healthCheck: interval, timeout and thresholds must be positive`);
    parseMatcher(hc.matcher);
    const keys = new Set<string>();
    for (const t of tg.targets) {
      if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new InvalidDesiredStateError(`targetGroups[${tg.id}].targets: bad port ${t.port}`);
      if (!/^[0-9a-fA-F.:]+$/.test(t.address)) throw new InvalidDesiredStateError(`targetGroups[${tg.id}].targets: bad address ${t.address}`);
      if (keys.has(targetKey(t))) throw new InvalidDesiredStateError(`targetGroups[${tg.id}].targets: duplicate ${targetKey(t)}`);
      keys.add(targetKey(t));
    }
  }
  const ports = new Set<number>();
  for (const lb of state.loadBalancers) {
    for (const l of lb.listeners) {
      if (ports.has(l.port)) throw new InvalidDesiredStateError(`listeners: port ${l.port} used twice`);
      ports.add(l.port);
      if (l.protocol === 'TCP' && (l.rules.length > 0 || l.defaultAction.type !== 'forward'))
        throw new InvalidDesiredStateError(`listeners[${l.id}]: a TCP listener has only a forward default action`);
      const priorities = new Set<number>();
      for (const r of l.rules) {
        if (priorities.has(r.priority)) throw new InvalidDesiredStateError(`listeners[${l.id}].rules: priority ${r.priority} used twice`);
        priorities.add(r.priority);
      }
      for (const a of [l.defaultAction, ...l.rules.map((r) => r.action)]) {
        if (a.type !== 'forward') continue;
        if (a.targetGroups.length === 0) throw new InvalidDesiredStateError(`listeners[${l.id}]: a forward action needs a target group`);
        for (const w of a.targetGroups) {
          if (!tgIds.has(w.targetGroupId)) throw new InvalidDesiredStateError(`listeners[${l.id}]: unknown target group ${w.targetGroupId}`);
          // HAProxy (like ELBv2) cannot forward an HTTP listener to a TCP group or the reverse.
          const tgProtocol = state.targetGroups.find((tg) => tg.id === w.targetGroupId)!.protocol;
          if (tgProtocol !== l.protocol) throw new InvalidDesiredStateError(`listeners[${l.id}]: a ${l.protocol} listener cannot forward to ${tgProtocol} target group ${w.targetGroupId}`);
          if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > 999) throw new InvalidDesiredStateError(`listeners[${l.id}]: weight ${w.weight} outside 0-999`);
        }
      }
    }
  }
}

/** A matcher's codes as a sorted list (`200-202,204` → 200, 201, 202, 204). */
export function parseMatcher(matcher: string): number[] {
  const codes = new Set<number>();
  for (const part of matcher.split(',')) {
    const m = /^\s*(\d{3})(?:-(\d{3}))?\s*$/.exec(part);
    if (!m) throw new InvalidDesiredStateError(`healthCheck.matcher: ${JSON.stringify(matcher)} is not a list of codes or ranges`);
    const from = Number(m[1]);
    const to = m[2] ? Number(m[2]) : from;
    if (from < 100 || to > 599 || to < from) throw new InvalidDesiredStateError(`healthCheck.matcher: ${JSON.stringify(part)} outside 100-599`);
    for (let c = from; c <= to; c++) codes.add(c);
  }
  return [...codes].sort((a, b) => a - b);
}

/** Target groups some listener forwards to (the others' targets are ELBv2's `unused`). */
export function targetGroupsInUse(state: DesiredState): Set<string> {
  const used = new Set<string>();
  for (const lb of state.loadBalancers)
    for (const l of lb.listeners)
      for (const a of [l.defaultAction, ...l.rules.map((r) => r.action)]) if (a.type === 'forward') for (const w of a.targetGroups) used.add(w.targetGroupId);
  return used;
}

/** The state without its targets: what a reload must follow; a change of targets alone does not need one. */
export function structureOf(state: DesiredState): DesiredState {
  return { loadBalancers: state.loadBalancers, targetGroups: state.targetGroups.map((tg) => ({ ...tg, targets: [] })) };
}

/** Targets added to and removed from each target group between two states of the same structure. */
export interface TargetChanges {
  readonly added: readonly { readonly targetGroupId: string; readonly target: Target }[];
  readonly removed: readonly { readonly targetGroupId: string; readonly target: Target }[];
}

/** What it takes to go from `from` to `to`: a reload (structure changed) or target changes through the runtime API. */
export type ChangePlan = { readonly kind: 'none' } | { readonly kind: 'reload' } | ({ readonly kind: 'targets' } & TargetChanges);

export function planChange(from: DesiredState, to: DesiredState): ChangePlan {
  if (JSON.stringify(structureOf(from)) !== JSON.stringify(structureOf(to))) return { kind: 'reload' };
  const added: { targetGroupId: string; target: Target }[] = [];
  const removed: { targetGroupId: string; target: Target }[] = [];
  for (const tg of to.targetGroups) {
    const before = from.targetGroups.find((f) => f.id === tg.id)?.targets ?? [];
    const beforeKeys = new Set(before.map(targetKey));
    const afterKeys = new Set(tg.targets.map(targetKey));
    for (const t of tg.targets) if (!beforeKeys.has(targetKey(t))) added.push({ targetGroupId: tg.id, target: t });
    for (const t of before) if (!afterKeys.has(targetKey(t))) removed.push({ targetGroupId: tg.id, target: t });
  }
  return added.length === 0 && removed.length === 0 ? { kind: 'none' } : { kind: 'targets', added, removed };
}
