import type { CreateServiceRequest, DeploymentConfiguration, UpdateServiceRequest } from '@aws-sdk/client-ecs';
import { invalidParameter } from '../errors.js';
import { defaultLimits, type DeploymentLimits, type SchedulingStrategy } from './service.js';

/** ECS's limit on a service's desired count (tasks per service). */
export const MAX_DESIRED_COUNT = 5000;

const SERVICE_NAME = /^[a-zA-Z0-9_-]{1,255}$/;

/** A service name as ECS allows it, or InvalidParameterException naming the field. */
export function validateServiceName(name: string | undefined, field = 'serviceName'): string {
  if (!name || !SERVICE_NAME.test(name)) {
    throw invalidParameter(`${field}: a service name has up to 255 letters (uppercase and lowercase), numbers, underscores and hyphens.`);
  }
  return name;
}

type Common = CreateServiceRequest | UpdateServiceRequest;

/**
 * Refuse what berth does not do (yet), naming the field:
 * volume and VPC Lattice configurations, zone rebalancing, deployment alarms. (Launch types, strategies and
 * platform versions: api/ecs/service-capacity.ts. Deployment strategies: shift-config.ts. The deployment controller is
 * checked by the caller.)
 */
export function refuseUnsupported(input: Common): void {
  const nonEmpty = (v: unknown) => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null);
  const unsupported: [string, unknown][] = [
    ['volumeConfigurations', input.volumeConfigurations],
    ['vpcLatticeConfigurations', input.vpcLatticeConfigurations],
  ];
  for (const [field, value] of unsupported) {
    if (nonEmpty(value)) throw invalidParameter(`${field}: not supported by berth yet.`);
  }
  if ('role' in input && input.role && !input.loadBalancers?.length) throw invalidParameter('role: a service role can only be specified together with loadBalancers.');
  if (input.availabilityZoneRebalancing === 'ENABLED') {
    throw invalidParameter('availabilityZoneRebalancing: berth does not rebalance running tasks across zones; use DISABLED.');
  }
  const config = input.deploymentConfiguration;
  if (config) {
    if (config.alarms?.enable) throw invalidParameter('deploymentConfiguration.alarms: CloudWatch alarms are not supported by berth yet.');
  }
}

/**
 * The deployment limits a request leaves the service with: `given` over `current` (or ECS's defaults for the
 * scheduling strategy), checked: minimumHealthyPercent 0–100; maximumPercent at least 100 (exactly 100 for
 * DAEMON services, which run one task per instance) and not below minimumHealthyPercent.
 */
export function deploymentLimitsOf(
  strategy: SchedulingStrategy,
  given: DeploymentConfiguration | undefined,
  current: DeploymentLimits = defaultLimits(strategy),
): DeploymentLimits {
  const limits: DeploymentLimits = {
    minimumHealthyPercent: given?.minimumHealthyPercent ?? current.minimumHealthyPercent,
    maximumPercent: given?.maximumPercent ?? current.maximumPercent,
    circuitBreaker: given?.deploymentCircuitBreaker
      ? { enable: given.deploymentCircuitBreaker.enable ?? false, rollback: given.deploymentCircuitBreaker.rollback ?? false }
      : current.circuitBreaker,
  };
  const { minimumHealthyPercent: min, maximumPercent: max } = limits;
  if (!Number.isInteger(min) || min < 0 || min > 100) {
    throw invalidParameter(`deploymentConfiguration.minimumHealthyPercent must be between 0 and 100, not ${min}.`);
  }
  if (strategy === 'DAEMON' && max !== 100) {
    throw invalidParameter(`deploymentConfiguration.maximumPercent must be 100 for a DAEMON service (one task per instance), not ${max}.`);
  }
  if (!Number.isInteger(max) || max < 100 || max > 2000) {
    throw invalidParameter(`deploymentConfiguration.maximumPercent must be between 100 and 2000, not ${max}.`);
  }
  if (max < min) {
    throw invalidParameter(`deploymentConfiguration.maximumPercent (${max}) cannot be below minimumHealthyPercent (${min}).`);
  }
  return limits;
}

/** The desired count a request sets, checked against the scheduling strategy (undefined: unchanged). */
export function desiredCountOf(strategy: SchedulingStrategy, desired: number | undefined, creating: boolean): number | undefined {
  if (strategy === 'DAEMON') {
    if (desired !== undefined) throw invalidParameter('desiredCount: the daemon scheduling strategy does not support a desired count for services.');
    return undefined;
  }
  if (desired === undefined) {
    if (creating) throw invalidParameter('desiredCount is required for a service with the REPLICA scheduling strategy.');
    return undefined;
  }
  if (!Number.isInteger(desired) || desired < 0 || desired > MAX_DESIRED_COUNT) {
    throw invalidParameter(`desiredCount must be between 0 and ${MAX_DESIRED_COUNT}, not ${desired}.`);
  }
  return desired;
}

/** healthCheckGracePeriodSeconds: whole seconds, 0 or more. */
export function gracePeriodOf(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 2_147_483_647) {
    throw invalidParameter(`healthCheckGracePeriodSeconds must be a whole number of seconds, 0 or more, not ${seconds}.`);
  }
  return seconds;
}
