import type { ElbProtocol, HealthCheckSettings } from '../state/records/elb.js';
import { isHttpProtocol } from './attributes.js';
import { elbErrors } from './errors.js';

/** The health check members of CreateTargetGroup and ModifyTargetGroup. */
export interface HealthCheckInput {
  readonly HealthCheckProtocol?: string;
  readonly HealthCheckPort?: string;
  readonly HealthCheckEnabled?: boolean;
  readonly HealthCheckPath?: string;
  readonly HealthCheckIntervalSeconds?: number;
  readonly HealthCheckTimeoutSeconds?: number;
  readonly HealthyThresholdCount?: number;
  readonly UnhealthyThresholdCount?: number;
  readonly Matcher?: { readonly HttpCode?: string; readonly GrpcCode?: string };
}

const HEALTH_CHECK_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP'] as const;

/**
 * AWS's defaults for a target group of `protocol` whose health check uses `checkProtocol`: HTTP(S) target groups
 * check with their own protocol, `/`, 5 s timeout, 5 healthy / 2 unhealthy, matcher 200; the others check TCP
 * with a 10 s timeout (6 s for HTTP checks), matcher 200-399 for HTTP(S) checks; every interval is 30 s.
 */
function defaults(protocol: ElbProtocol, checkProtocol: ElbProtocol): HealthCheckSettings {
  const httpGroup = isHttpProtocol(protocol);
  const httpCheck = isHttpProtocol(checkProtocol);
  return {
    protocol: checkProtocol,
    port: 'traffic-port',
    enabled: true,
    intervalSeconds: 30,
    timeoutSeconds: httpGroup ? 5 : checkProtocol === 'HTTP' ? 6 : 10,
    healthyThreshold: 5,
    unhealthyThreshold: 2,
    ...(httpCheck ? { path: '/', matcher: httpGroup ? '200' : '200-399' } : {}),
  };
}

/**
 * The health check a target group gets from `input`, over `current` (ModifyTargetGroup) or over the defaults
 * (CreateTargetGroup, or a modification changing the check's protocol family). Throws ValidationError as AWS
 * words it for what the combination does not allow.
 */
export function healthCheckOf(protocol: ElbProtocol, input: HealthCheckInput, current?: HealthCheckSettings): HealthCheckSettings {
  const requested = input.HealthCheckProtocol;
  if (requested !== undefined && !(HEALTH_CHECK_PROTOCOLS as readonly string[]).includes(requested)) {
    throw elbErrors.validation(`Health check protocol '${requested}' is not supported`);
  }
  const checkProtocol = (requested ?? current?.protocol ?? (isHttpProtocol(protocol) ? protocol : 'TCP')) as ElbProtocol;
  if (isHttpProtocol(protocol) && checkProtocol === 'TCP') {
    throw elbErrors.validation(`Health check protocol 'TCP' is not supported for target groups with the protocol '${protocol}'`);
  }
  const familyChanged = current !== undefined && isHttpProtocol(current.protocol) !== isHttpProtocol(checkProtocol);
  const base = current && !familyChanged ? current : defaults(protocol, checkProtocol);
  const httpCheck = isHttpProtocol(checkProtocol);
  if (!httpCheck && input.HealthCheckPath !== undefined) throw elbErrors.validation('Health check path cannot be set for TCP health checks');
  if (!httpCheck && input.Matcher !== undefined) throw elbErrors.validation('Health check matcher HTTP code cannot be set for TCP health checks');
  if (input.HealthCheckEnabled === false) throw elbErrors.validation('Health checks cannot be disabled for target groups with target type instance or ip');
  if (input.Matcher?.GrpcCode !== undefined) throw elbErrors.validation('A gRPC matcher can only be set for target groups with the protocol version GRPC');
  const port = input.HealthCheckPort ?? base.port;
  if (port !== 'traffic-port' && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw elbErrors.validation(`Health check port '${port}' must be 'traffic-port' or a port number from 1 to 65535`);
  }
  const path = input.HealthCheckPath ?? base.path;
  if (path !== undefined && !path.startsWith('/')) throw elbErrors.validation(`Health check path '${path}' must start with '/'`);
  const matcher = input.Matcher?.HttpCode ?? base.matcher;
  if (matcher !== undefined) checkMatcher(matcher, isHttpProtocol(protocol) ? 499 : 599);
  const settings: HealthCheckSettings = {
    protocol: checkProtocol,
    port,
    enabled: true,
    intervalSeconds: input.HealthCheckIntervalSeconds ?? base.intervalSeconds,
    timeoutSeconds: input.HealthCheckTimeoutSeconds ?? base.timeoutSeconds,
    healthyThreshold: input.HealthyThresholdCount ?? base.healthyThreshold,
    unhealthyThreshold: input.UnhealthyThresholdCount ?? base.unhealthyThreshold,
    ...(httpCheck ? { path: path ?? '/', matcher: matcher ?? '200' } : {}),
  };
  if (settings.timeoutSeconds >= settings.intervalSeconds) {
    throw elbErrors.validation(`Health check timeout '${settings.timeoutSeconds}' must be smaller than the interval '${settings.intervalSeconds}'`);
  }
  return settings;
}

/** `200`, `200,202`, `200-299`: codes from 200 to `max`. */
function checkMatcher(matcher: string, max: number): void {
  const bad = () => elbErrors.validation(`Health check matcher HTTP code '${matcher}' must be codes from 200 to ${max}, as '200', '200,202' or '200-299'`);
  const inRange = (c: string) => /^\d{3}$/.test(c) && Number(c) >= 200 && Number(c) <= max;
  const parts = matcher.split(',');
  if (parts.length === 1 && parts[0]!.includes('-')) {
    const [low, high, ...rest] = parts[0]!.split('-');
    if (rest.length > 0 || !inRange(low ?? '') || !inRange(high ?? '') || Number(low) > Number(high)) throw bad();
    return;
  }
  if (!parts.every(inRange)) throw bad();
}

/** The health check as TargetGroup shows it. */
export function healthCheckShape(settings: HealthCheckSettings): Record<string, unknown> {
  return {
    HealthCheckProtocol: settings.protocol,
    HealthCheckPort: settings.port,
    HealthCheckEnabled: settings.enabled,
    HealthCheckIntervalSeconds: settings.intervalSeconds,
    HealthCheckTimeoutSeconds: settings.timeoutSeconds,
    HealthyThresholdCount: settings.healthyThreshold,
    UnhealthyThresholdCount: settings.unhealthyThreshold,
    ...(settings.path !== undefined ? { HealthCheckPath: settings.path } : {}),
    ...(settings.matcher !== undefined ? { Matcher: { HttpCode: settings.matcher } } : {}),
  };
}
