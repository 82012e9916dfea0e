/**
 * ECS services: statuses, deployment states and the arithmetic of rolling deployments. Pure.
 *
 * A service's status:
 *
 *   ACTIVE ──DeleteService──▶ DRAINING ──(its last task stopped)──▶ INACTIVE
 *
 * A deployment (one task definition the service runs, `ecs-svc/<19 digits>`):
 *
 *   status:       PRIMARY (the one the service converges to) ──newer deployment──▶ ACTIVE ──drained──▶ INACTIVE
 *   rolloutState: IN_PROGRESS ──desired tasks healthy, older deployments drained──▶ COMPLETED
 *                 IN_PROGRESS ──circuit breaker: failed tasks ≥ threshold──▶ FAILED
 *                 COMPLETED ──chosen as the rollback target of a FAILED deployment──▶ IN_PROGRESS
 */
export const serviceStatuses = ['ACTIVE', 'DRAINING', 'INACTIVE'] as const;
export type ServiceStatus = (typeof serviceStatuses)[number];

export const deploymentStatuses = ['PRIMARY', 'ACTIVE', 'INACTIVE'] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];

export const rolloutStates = ['IN_PROGRESS', 'COMPLETED', 'FAILED'] as const;
export type RolloutState = (typeof rolloutStates)[number];

export const schedulingStrategies = ['REPLICA', 'DAEMON'] as const;
export type SchedulingStrategy = (typeof schedulingStrategies)[number];

export const propagateTagsValues = ['TASK_DEFINITION', 'SERVICE', 'NONE'] as const;
export type PropagateTags = (typeof propagateTagsValues)[number];

/** The deployment configuration with ECS's defaults filled in. */
export interface DeploymentLimits {
  readonly minimumHealthyPercent: number;
  readonly maximumPercent: number;
  readonly circuitBreaker: { readonly enable: boolean; readonly rollback: boolean };
}

/** ECS's defaults: REPLICA 100 % / 200 %, DAEMON 0 % / 100 %; circuit breaker off. */
export function defaultLimits(strategy: SchedulingStrategy): DeploymentLimits {
  return strategy === 'DAEMON'
    ? { minimumHealthyPercent: 0, maximumPercent: 100, circuitBreaker: { enable: false, rollback: false } }
    : { minimumHealthyPercent: 100, maximumPercent: 200, circuitBreaker: { enable: false, rollback: false } };
}

/**
 * The bounds a rolling deployment keeps at every moment, for `desired` tasks: at least `floor` healthy tasks
 * (ceil(desired × minimumHealthyPercent / 100)) and at most `ceiling` tasks that have not stopped
 * (floor(desired × maximumPercent / 100)).
 */
export function healthBounds(desired: number, limits: Pick<DeploymentLimits, 'minimumHealthyPercent' | 'maximumPercent'>): { floor: number; ceiling: number } {
  // Whole numbers throughout: desired × percent is an integer, so dividing it by 100 rounds exactly.
  const floor = Math.floor((desired * limits.minimumHealthyPercent + 99) / 100);
  const ceiling = Math.floor((desired * limits.maximumPercent) / 100);
  return { floor, ceiling };
}

/** The circuit breaker trips when a deployment's failed tasks reach 0.5 × desired, rounded up, within [3, 200]. */
export function circuitBreakerThreshold(desired: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desired * 0.5)));
}

/** The prefix of deployment ids; the rest is 19 decimal digits. */
export const DEPLOYMENT_ID_PREFIX = 'ecs-svc/';

/** A deployment id from 19 random decimal digits (the first not 0), given a source of digits 0–9. */
export function deploymentIdFrom(digit: () => number): string {
  let id = String(1 + (digit() % 9));
  while (id.length < 19) id += String(digit() % 10);
  return `${DEPLOYMENT_ID_PREFIX}${id}`;
}

/** ECS's rolloutStateReason strings. */
export const rolloutReasons = {
  inProgress: (id: string) => `ECS deployment ${id} in progress.`,
  completed: (id: string) => `ECS deployment ${id} completed.`,
  failed: () => 'ECS deployment circuit breaker: tasks failed to start.',
  rollingBack: (to: string) => `ECS deployment circuit breaker: rolling back to deploymentId ${to}.`,
} as const;

/** ECS's stoppedReason strings for tasks the service scheduler stops. */
/** How every stopped reason of a task that failed a target group's health checks begins. */
export const ELB_UNHEALTHY = 'Task failed ELB health checks';

export const stopReasons = {
  scaling: (deploymentId: string) => `Scaling activity initiated by (deployment ${deploymentId})`,
  unhealthy: () => 'Task failed container health checks',
  elbUnhealthy: (targetGroupArn: string) => `${ELB_UNHEALTHY} in (target-group ${targetGroupArn})`,
  instanceGone: (instanceId: string) => `Task stopped because its container instance ${instanceId} was deregistered`,
  instanceLost: (instanceId: string) =>
    `Task stopped because its container instance ${instanceId} was lost: its agent stayed disconnected longer than the server allows`,
} as const;

/** `service:<name>`, the group of every task of a service. */
export const serviceGroup = (name: string) => `service:${name}`;

/** The limits a stored deploymentConfiguration describes (ECS's defaults for what it leaves out). */
export function limitsOf(
  strategy: SchedulingStrategy,
  config: { maximumPercent?: number; minimumHealthyPercent?: number; deploymentCircuitBreaker?: { enable?: boolean; rollback?: boolean } } | undefined,
): DeploymentLimits {
  const d = defaultLimits(strategy);
  return {
    minimumHealthyPercent: config?.minimumHealthyPercent ?? d.minimumHealthyPercent,
    maximumPercent: config?.maximumPercent ?? d.maximumPercent,
    circuitBreaker: {
      enable: config?.deploymentCircuitBreaker?.enable ?? false,
      rollback: config?.deploymentCircuitBreaker?.rollback ?? false,
    },
  };
}

/** The stored (and DescribeServices) form of deployment limits. */
export function deploymentConfigurationOf(limits: DeploymentLimits) {
  return {
    deploymentCircuitBreaker: { enable: limits.circuitBreaker.enable, rollback: limits.circuitBreaker.rollback },
    maximumPercent: limits.maximumPercent,
    minimumHealthyPercent: limits.minimumHealthyPercent,
  };
}

/** A new deployment as ECS shows it: PRIMARY, IN_PROGRESS, nothing running yet (awsvpc: with its network configuration). */
export function newDeployment(
  id: string,
  taskDefinition: string,
  desiredCount: number,
  nowMs: number,
  awsvpc?: { subnets?: string[]; securityGroups?: string[]; assignPublicIp?: string },
) {
  return {
    id,
    status: 'PRIMARY' as DeploymentStatus,
    taskDefinition,
    desiredCount,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: nowMs / 1000,
    updatedAt: nowMs / 1000,
    launchType: 'EC2' as const,
    rolloutState: 'IN_PROGRESS' as RolloutState,
    rolloutStateReason: rolloutReasons.inProgress(id),
    ...(awsvpc ? { networkConfiguration: { awsvpcConfiguration: awsvpc as { subnets: string[]; securityGroups?: string[]; assignPublicIp?: 'ENABLED' | 'DISABLED' } } } : {}),
  };
}
