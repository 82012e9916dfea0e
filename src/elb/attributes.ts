import type { ElbProtocol, LoadBalancerType } from '../state/records/elb.js';
import { elbErrors } from './errors.js';

/**
 * Load balancer and target group attributes: AWS's keys, their defaults per load balancer type and target group
 * protocol, and the values each accepts. A key the resource does not have is a ValidationError naming it, and a
 * modification is checked whole before anything is written.
 */

type Check = (value: string) => boolean;
interface AttributeSpec {
  readonly defaultValue: string;
  readonly check: Check;
  readonly expected: string;
}

const bool: Pick<AttributeSpec, 'check' | 'expected'> = { check: (v) => v === 'true' || v === 'false', expected: "'true' or 'false'" };
const text: Pick<AttributeSpec, 'check' | 'expected'> = { check: (v) => v.length <= 1024, expected: 'at most 1024 characters' };
const range = (min: number, max: number, orZero = false): Pick<AttributeSpec, 'check' | 'expected'> => ({
  check: (v) => /^\d{1,7}$/.test(v) && ((Number(v) >= min && Number(v) <= max) || (orZero && Number(v) === 0)),
  expected: `an integer from ${min} to ${max}${orZero ? ' (or 0)' : ''}`,
});
const oneOf = (...values: string[]): Pick<AttributeSpec, 'check' | 'expected'> => ({ check: (v) => values.includes(v), expected: `one of ${values.map((x) => `'${x}'`).join(', ')}` });
const spec = (defaultValue: string, kind: Pick<AttributeSpec, 'check' | 'expected'>): AttributeSpec => ({ defaultValue, ...kind });

const ACCESS_LOGS: Record<string, AttributeSpec> = {
  'access_logs.s3.enabled': spec('false', bool),
  'access_logs.s3.bucket': spec('', text),
  'access_logs.s3.prefix': spec('', text),
  'deletion_protection.enabled': spec('false', bool),
  'zonal_shift.config.enabled': spec('false', bool),
};

const LOAD_BALANCER: Readonly<Record<LoadBalancerType, Readonly<Record<string, AttributeSpec>>>> = {
  application: {
    ...ACCESS_LOGS,
    'connection_logs.s3.enabled': spec('false', bool),
    'connection_logs.s3.bucket': spec('', text),
    'connection_logs.s3.prefix': spec('', text),
    'idle_timeout.timeout_seconds': spec('60', range(1, 4000)),
    'client_keep_alive.seconds': spec('3600', range(60, 604800)),
    'routing.http.desync_mitigation_mode': spec('defensive', oneOf('monitor', 'defensive', 'strictest')),
    'routing.http.drop_invalid_header_fields.enabled': spec('false', bool),
    'routing.http.preserve_host_header.enabled': spec('false', bool),
    'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': spec('false', bool),
    'routing.http.xff_client_port.enabled': spec('false', bool),
    'routing.http.xff_header_processing.mode': spec('append', oneOf('append', 'preserve', 'remove')),
    'routing.http2.enabled': spec('true', bool),
    'waf.fail_open.enabled': spec('false', bool),
  },
  network: {
    ...ACCESS_LOGS,
    'load_balancing.cross_zone.enabled': spec('false', bool),
    'dns_record.client_routing_policy': spec('any_availability_zone', oneOf('availability_zone_affinity', 'partial_availability_zone_affinity', 'any_availability_zone')),
  },
};

const TARGET_GROUP_HEALTH: Record<string, AttributeSpec> = {
  'deregistration_delay.timeout_seconds': spec('300', range(0, 3600)),
  'load_balancing.cross_zone.enabled': spec('use_load_balancer_configuration', oneOf('true', 'false', 'use_load_balancer_configuration')),
  'target_group_health.dns_failover.minimum_healthy_targets.count': spec('1', { check: (v) => v === 'off' || /^[1-9]\d{0,3}$/.test(v), expected: "'off' or a count" }),
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': spec('off', { check: (v) => v === 'off' || (/^\d{1,3}$/.test(v) && Number(v) <= 100), expected: "'off' or a percentage" }),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': spec('1', { check: (v) => /^[1-9]\d{0,3}$/.test(v), expected: 'a count' }),
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': spec('off', {
    check: (v) => v === 'off' || (/^\d{1,3}$/.test(v) && Number(v) <= 100),
    expected: "'off' or a percentage",
  }),
};

const HTTP_TARGET_GROUP: Record<string, AttributeSpec> = {
  ...TARGET_GROUP_HEALTH,
  'slow_start.duration_seconds': spec('0', range(30, 900, true)),
  'stickiness.enabled': spec('false', bool),
  'stickiness.type': spec('lb_cookie', oneOf('lb_cookie', 'app_cookie')),
  'stickiness.lb_cookie.duration_seconds': spec('86400', range(1, 604800)),
  'stickiness.app_cookie.cookie_name': spec('', { check: (v) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]{0,256}$/.test(v), expected: 'a cookie name' }),
  'stickiness.app_cookie.duration_seconds': spec('86400', range(1, 604800)),
  'load_balancing.algorithm.type': spec('round_robin', oneOf('round_robin', 'least_outstanding_requests', 'weighted_random')),
  'load_balancing.algorithm.anomaly_mitigation': spec('off', oneOf('on', 'off')),
};

const NETWORK_TARGET_GROUP: Record<string, AttributeSpec> = {
  ...TARGET_GROUP_HEALTH,
  'deregistration_delay.connection_termination.enabled': spec('false', bool),
  'preserve_client_ip.enabled': spec('true', bool),
  'proxy_protocol_v2.enabled': spec('false', bool),
  'stickiness.enabled': spec('false', bool),
  'stickiness.type': spec('source_ip', oneOf('source_ip')),
  'target_health_state.unhealthy.connection_termination.enabled': spec('true', bool),
  'target_health_state.unhealthy.draining_interval_seconds': spec('0', range(0, 360000)),
};

/** Whether a protocol is an Application Load Balancer's (HTTP, HTTPS) rather than a Network Load Balancer's. */
export const isHttpProtocol = (protocol: string): boolean => protocol === 'HTTP' || protocol === 'HTTPS';

function targetGroupSpecs(protocol: ElbProtocol): Readonly<Record<string, AttributeSpec>> {
  return isHttpProtocol(protocol) ? HTTP_TARGET_GROUP : NETWORK_TARGET_GROUP;
}

const defaultsOf = (specs: Readonly<Record<string, AttributeSpec>>) => Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.defaultValue]));

/** A new load balancer's attributes. */
export const loadBalancerDefaults = (type: LoadBalancerType): Record<string, string> => defaultsOf(LOAD_BALANCER[type]);

/** A new target group's attributes (AWS keeps client IPs for instance targets, not for ip targets over TCP/TLS). */
export function targetGroupDefaults(protocol: ElbProtocol, targetType: 'instance' | 'ip'): Record<string, string> {
  const out = defaultsOf(targetGroupSpecs(protocol));
  if (!isHttpProtocol(protocol) && targetType === 'ip' && protocol !== 'UDP' && protocol !== 'TCP_UDP') out['preserve_client_ip.enabled'] = 'false';
  return out;
}

/** `current` with `changes` applied, every key and value checked first. */
function apply(
  specs: Readonly<Record<string, AttributeSpec>>,
  noun: string,
  current: Readonly<Record<string, string>>,
  changes: readonly { Key?: string; Value?: string }[],
): Record<string, string> {
  const out = { ...current };
  for (const { Key: key, Value: value } of changes) {
    if (key === undefined) throw elbErrors.validation(`${noun} attribute key must be specified`);
    const s = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!s) throw elbErrors.validation(`${noun} attribute key '${key}' is not recognized`);
    const v = value ?? '';
    if (!s.check(v)) throw elbErrors.validation(`${noun} attribute '${key}' value '${v}' is not valid: must be ${s.expected}`);
    out[key] = v;
  }
  return out;
}

export const modifyLoadBalancerAttributes = (type: LoadBalancerType, current: Readonly<Record<string, string>>, changes: readonly { Key?: string; Value?: string }[]) =>
  apply(LOAD_BALANCER[type], 'Load balancer', current, changes);

export function modifyTargetGroupAttributes(protocol: ElbProtocol, current: Readonly<Record<string, string>>, changes: readonly { Key?: string; Value?: string }[]): Record<string, string> {
  const out = apply(targetGroupSpecs(protocol), 'Target group', current, changes);
  if (out['stickiness.type'] === 'app_cookie' && out['stickiness.enabled'] === 'true' && out['stickiness.app_cookie.cookie_name'] === '') {
    throw elbErrors.validation("Target group attribute 'stickiness.app_cookie.cookie_name' must be specified for 'app_cookie' stickiness");
  }
  return out;
}

/** Attributes as the API lists them: `[{Key, Value}]` in key order. */
export const attributeList = (attributes: Readonly<Record<string, string>>) =>
  Object.keys(attributes)
    .sort()
    .map((Key) => ({ Key, Value: attributes[Key] }));
