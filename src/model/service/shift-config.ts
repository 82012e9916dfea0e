import type { DeploymentConfiguration, DeploymentLifecycleHook } from '@aws-sdk/client-ecs';
import { invalidParameter } from '../errors.js';
import type { Wire } from '../wire.js';

/**
 * The traffic-shifting half of a service's `deploymentConfiguration` (ECS's BLUE_GREEN, CANARY and LINEAR
 * strategies): the strategy, the bake times, the canary or linear step, and lifecycle hooks (recorded and shown,
 * never invoked: berth has no Lambda). Checked as ECS checks them; pure.
 */

export const deploymentStrategies = ['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'] as const;
export type DeploymentStrategy = (typeof deploymentStrategies)[number];

/** The strategies that shift traffic between two target groups instead of replacing tasks in place. */
export const isShifting = (s: string | undefined): s is 'BLUE_GREEN' | 'LINEAR' | 'CANARY' => s === 'BLUE_GREEN' || s === 'LINEAR' || s === 'CANARY';

/** What a stored deploymentConfiguration says about shifting, ECS's defaults filled in. */
export interface ShiftConfig {
  readonly strategy: DeploymentStrategy;
  readonly bakeTimeInMinutes: number;
  readonly canaryConfiguration?: { readonly canaryPercent: number; readonly canaryBakeTimeInMinutes: number };
  readonly linearConfiguration?: { readonly stepPercent: number; readonly stepBakeTimeInMinutes: number };
  readonly lifecycleHooks?: readonly Wire<DeploymentLifecycleHook>[];
}

type Hook = Wire<DeploymentLifecycleHook>;

/** The part of a request's (or a record's) deploymentConfiguration read here. */
export interface GivenConfig {
  readonly strategy?: string;
  readonly bakeTimeInMinutes?: number;
  readonly canaryConfiguration?: { readonly canaryPercent?: number; readonly canaryBakeTimeInMinutes?: number };
  readonly linearConfiguration?: { readonly stepPercent?: number; readonly stepBakeTimeInMinutes?: number };
  readonly lifecycleHooks?: readonly Hook[];
}

const MAX_BAKE_MINUTES = 1440;
const HOOK_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
];
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

function minutes(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > MAX_BAKE_MINUTES) {
    throw invalidParameter(`${field} must be a whole number of minutes from 0 to ${MAX_BAKE_MINUTES}, not ${value}.`);
  }
  return value;
}

/** A percentage in multiples of 0.1 within [min, 100]. */
function percent(field: string, value: number | undefined, min: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const tenths = Math.round(value * 10);
  if (!Number.isFinite(value) || Math.abs(tenths - value * 10) > 1e-6 || value < min || value > 100) {
    throw invalidParameter(`${field} must be a multiple of 0.1 from ${min.toFixed(1)} to 100.0, not ${value}.`);
  }
  return tenths / 10;
}

/** Lifecycle hooks as ECS takes them; PAUSE hooks are refused (berth has no ContinueServiceDeployment). */
function checkHooks(hooks: readonly Hook[]): Hook[] {
  return hooks.map((h: Hook, i): Hook => {
    const field = `deploymentConfiguration.lifecycleHooks[${i}]`;
    const type = h.targetType ?? 'AWS_LAMBDA';
    if (type === 'PAUSE') throw invalidParameter(`${field}.targetType: PAUSE hooks are not supported by berth (it has no ContinueServiceDeployment).`);
    if (type !== 'AWS_LAMBDA') throw invalidParameter(`${field}.targetType must be AWS_LAMBDA or PAUSE, not ${String(type)}.`);
    if (!h.hookTargetArn || !LAMBDA_ARN.test(h.hookTargetArn)) throw invalidParameter(`${field}.hookTargetArn must be the ARN of a Lambda function.`);
    if (!h.roleArn || !ROLE_ARN.test(h.roleArn)) throw invalidParameter(`${field}.roleArn must be the ARN of an IAM role.`);
    const stages = h.lifecycleStages ?? [];
    if (stages.length === 0) throw invalidParameter(`${field}.lifecycleStages must name at least one lifecycle stage.`);
    for (const s of stages) if (!HOOK_STAGES.includes(s)) throw invalidParameter(`${field}.lifecycleStages: ${String(s)} is not a lifecycle stage a hook can run at.`);
    return { ...h, targetType: type };
  });
}

/**
 * The shifting configuration a request leaves the service with: `given` over `current`. A strategy change resets
 * the strategy's own settings to ECS's defaults unless given. Refused: an unknown strategy, a canary configuration
 * without CANARY (linear without LINEAR), bake times outside 0–1440 minutes, percentages off the 0.1 grid or out
 * of range, BLUE_GREEN without bakeTimeInMinutes, hooks with ROLLING, and shifting for DAEMON services or other
 * deployment controllers than ECS.
 */
export function shiftConfigOf(
  given: GivenConfig | undefined,
  current: ShiftConfig | undefined,
  context: { scheduling: string; controller: string },
): ShiftConfig {
  const strategy = (given?.strategy ?? current?.strategy ?? 'ROLLING') as DeploymentStrategy;
  if (!(deploymentStrategies as readonly string[]).includes(strategy)) {
    throw invalidParameter(`deploymentConfiguration.strategy must be one of ${deploymentStrategies.join(', ')}, not ${String(strategy)}.`);
  }
  if (isShifting(strategy) && context.controller !== 'ECS') {
    throw invalidParameter(`deploymentConfiguration.strategy: ${strategy} needs the ECS deployment controller, not ${context.controller}.`);
  }
  if (isShifting(strategy) && context.scheduling === 'DAEMON') {
    throw invalidParameter(`deploymentConfiguration.strategy: ${strategy} is not supported for services with the DAEMON scheduling strategy.`);
  }
  if (given?.canaryConfiguration && strategy !== 'CANARY') throw invalidParameter('deploymentConfiguration.canaryConfiguration is only valid with the CANARY strategy.');
  if (given?.linearConfiguration && strategy !== 'LINEAR') throw invalidParameter('deploymentConfiguration.linearConfiguration is only valid with the LINEAR strategy.');
  const same = current?.strategy === strategy;
  const bakeGiven = given?.bakeTimeInMinutes ?? (same ? current?.bakeTimeInMinutes : undefined);
  if (strategy === 'BLUE_GREEN' && (bakeGiven === undefined || bakeGiven === null)) {
    throw invalidParameter('deploymentConfiguration.bakeTimeInMinutes is required with the BLUE_GREEN strategy.');
  }
  const bakeTimeInMinutes = minutes('deploymentConfiguration.bakeTimeInMinutes', bakeGiven ?? undefined, 0);
  const hooksGiven = given?.lifecycleHooks ?? current?.lifecycleHooks;
  if (hooksGiven?.length && !isShifting(strategy)) throw invalidParameter('deploymentConfiguration.lifecycleHooks are only valid with the BLUE_GREEN, LINEAR or CANARY strategy.');
  const hooks = hooksGiven?.length ? checkHooks(hooksGiven) : undefined;
  const out: ShiftConfig = { strategy, bakeTimeInMinutes, ...(hooks ? { lifecycleHooks: hooks } : {}) };
  if (strategy === 'CANARY') {
    const c = given?.canaryConfiguration ?? (same ? current?.canaryConfiguration : undefined);
    return {
      ...out,
      canaryConfiguration: {
        canaryPercent: percent('deploymentConfiguration.canaryConfiguration.canaryPercent', c?.canaryPercent, 0.1, 5),
        canaryBakeTimeInMinutes: minutes('deploymentConfiguration.canaryConfiguration.canaryBakeTimeInMinutes', c?.canaryBakeTimeInMinutes, 10),
      },
    };
  }
  if (strategy === 'LINEAR') {
    const l = given?.linearConfiguration ?? (same ? current?.linearConfiguration : undefined);
    return {
      ...out,
      linearConfiguration: {
        stepPercent: percent('deploymentConfiguration.linearConfiguration.stepPercent', l?.stepPercent, 3, 10),
        stepBakeTimeInMinutes: minutes('deploymentConfiguration.linearConfiguration.stepBakeTimeInMinutes', l?.stepBakeTimeInMinutes, 6),
      },
    };
  }
  return out;
}

/** The shifting configuration a stored deploymentConfiguration holds (ROLLING when it says nothing). */
export function storedShiftConfig(config: GivenConfig | undefined): ShiftConfig {
  const strategy = (config?.strategy ?? 'ROLLING') as DeploymentStrategy;
  return {
    strategy,
    bakeTimeInMinutes: config?.bakeTimeInMinutes ?? 0,
    ...(config?.canaryConfiguration
      ? { canaryConfiguration: { canaryPercent: config.canaryConfiguration.canaryPercent ?? 5, canaryBakeTimeInMinutes: config.canaryConfiguration.canaryBakeTimeInMinutes ?? 10 } }
      : {}),
    ...(config?.linearConfiguration
      ? { linearConfiguration: { stepPercent: config.linearConfiguration.stepPercent ?? 10, stepBakeTimeInMinutes: config.linearConfiguration.stepBakeTimeInMinutes ?? 6 } }
      : {}),
    ...(config?.lifecycleHooks?.length ? { lifecycleHooks: config.lifecycleHooks } : {}),
  };
}

/** The stored (and DescribeServices) form: ROLLING shows only its strategy. */
export function shiftConfigFields(c: ShiftConfig): Partial<Wire<DeploymentConfiguration>> {
  if (!isShifting(c.strategy)) return { strategy: c.strategy };
  return {
    strategy: c.strategy,
    bakeTimeInMinutes: c.bakeTimeInMinutes,
    ...(c.canaryConfiguration ? { canaryConfiguration: c.canaryConfiguration } : {}),
    ...(c.linearConfiguration ? { linearConfiguration: c.linearConfiguration } : {}),
    ...(c.lifecycleHooks ? { lifecycleHooks: [...c.lifecycleHooks] } : {}),
  };
}
