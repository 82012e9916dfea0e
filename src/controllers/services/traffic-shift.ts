/**
 * Traffic-shifting deployments (ECS's BLUE_GREEN, CANARY and LINEAR strategies), as a pure step of the reconcile.
 *
 * Each `loadBalancers` entry has two target groups, its own and `advancedConfiguration.alternateTargetGroupArn`; one
 * of them is production (the one the live revision is in), the other is where a new revision starts. The stages of
 * the PRIMARY deployment (green) while older deployments (blue) still run, with ECS's lifecycle stage names:
 *
 * ```
 *   SCALE_UP ──green at desired count, every target healthy──▶ TEST_TRAFFIC_SHIFT (test rule → green)
 *      ──▶ PRODUCTION_TRAFFIC_SHIFT: production rule weights green p % / blue (100 − p) %
 *            BLUE_GREEN p = 100 at once
 *            CANARY     p = canaryPercent ──canaryBakeTimeInMinutes──▶ p = 100
 *            LINEAR     p = stepPercent ──stepBakeTimeInMinutes──▶ p + stepPercent … ──▶ 100 (no bake after 100)
 *      ──p = 100──▶ BAKE_TIME ──bakeTimeInMinutes──▶ CLEAN_UP (blue's tasks drain and stop)
 *      ──deployment COMPLETED──▶ the groups swap roles: green's group is production for the next deployment
 *
 *   Until CLEAN_UP, blue's healthy tasks are held (the rolling arithmetic stops none of them).
 *   The PRIMARY deployment is not the one being shifted to (circuit breaker rollback, StopServiceDeployment
 *   ROLLBACK, a FAILED deployment): production and test rules go back to 100 % production at once.
 * ```
 *
 * Weights are ELBv2's integers 0–999: p in tenths of a percent (p × 10 against (100 − p) × 10), (1, 0) at 100 %.
 * Time comes from the pass (`now`), so the bakes run on whatever clock the controller has (fake in tests).
 */
import type { Deployment, LoadBalancer } from '@aws-sdk/client-ecs';
import { isShifting, storedShiftConfig, type ShiftConfig } from '../../model/service/shift-config.js';
import type { Wire } from '../../model/wire.js';
import type { ServiceRecord, ShiftState } from '../../state/records/services.js';
import type { ForwardChange, TaskView } from './state.js';

const MINUTE_MS = 60_000;


/** What the shift step decides for one pass. */
export interface ShiftPlan {
  /** The shift after this pass (undefined: none in progress). */
  readonly shift: ShiftState | undefined;
  /** Older deployments' healthy tasks must not be stopped this pass. */
  readonly holdOld: boolean;
  /** The target groups each deployment's tasks are registered in (green's in the non-production group). */
  readonly deploymentLoadBalancers: Record<string, Wire<LoadBalancer>[]>;
  readonly forwards: ForwardChange[];
  readonly requeueAfterMs?: number;
}

/** Each `loadBalancers` entry's production group (the swap after each completed shift), keyed by the entry's own group. */
export const productionOf = (record: ServiceRecord, lb: Wire<LoadBalancer>) => record.berth.productionTargetGroups?.[lb.targetGroupArn!] ?? lb.targetGroupArn!;

/** The entry's other group: where a new revision starts. */
export function alternateOf(record: ServiceRecord, lb: Wire<LoadBalancer>): string | undefined {
  const alt = lb.advancedConfiguration?.alternateTargetGroupArn;
  if (!alt) return undefined;
  return productionOf(record, lb) === alt ? lb.targetGroupArn! : alt;
}

const shiftsTraffic = (record: ServiceRecord) => (record.loadBalancers ?? []).some((lb) => lb.advancedConfiguration?.alternateTargetGroupArn);

/** Production share p (percent) as a forward's weights, production group first. */
export function weightsFor(production: string, alternate: string, greenPercent: number) {
  const green = Math.round(greenPercent * 10);
  const blue = 1000 - green;
  const [g, b] = blue <= 0 ? [1, 0] : green <= 0 ? [0, 1] : [green, blue];
  return [
    { targetGroupArn: production, weight: b },
    { targetGroupArn: alternate, weight: g },
  ];
}

/** The next step of a shift in PRODUCTION_TRAFFIC_SHIFT or BAKE_TIME when its time is up; undefined while it waits. */
function advance(shift: ShiftState, config: ShiftConfig, now: number): { next: ShiftState } | { waitMs: number } {
  const at = (minutes: number) => shift.since + minutes * MINUTE_MS;
  const to = (stage: ShiftState['stage'], percent: number): { next: ShiftState } => ({ next: { ...shift, stage, percent, since: now } });
  if (shift.stage === 'PRODUCTION_TRAFFIC_SHIFT') {
    if (shift.percent >= 100) return to('BAKE_TIME', 100);
    const bake = config.strategy === 'CANARY' ? (config.canaryConfiguration?.canaryBakeTimeInMinutes ?? 10) : (config.linearConfiguration?.stepBakeTimeInMinutes ?? 6);
    if (now < at(bake)) return { waitMs: at(bake) - now };
    const step = config.strategy === 'LINEAR' ? (config.linearConfiguration?.stepPercent ?? 10) : 100;
    return to('PRODUCTION_TRAFFIC_SHIFT', Math.min(100, Math.round((shift.percent + step) * 10) / 10));
  }
  if (shift.stage === 'BAKE_TIME') {
    if (now < at(config.bakeTimeInMinutes)) return { waitMs: at(config.bakeTimeInMinutes) - now };
    return to('CLEAN_UP', 100);
  }
  throw new Error(`no timed step from ${shift.stage}`);
}

/** The first production share of a strategy. */
function firstPercent(config: ShiftConfig): number {
  if (config.strategy === 'CANARY') return config.canaryConfiguration?.canaryPercent ?? 5;
  if (config.strategy === 'LINEAR') return config.linearConfiguration?.stepPercent ?? 10;
  return 100;
}

/**
 * The shift step of one pass. `views` are the pass's tasks; `desired` the service's desired count.
 * Deployments get their target groups once (kept in `deploymentLoadBalancers` while they last): the PRIMARY one
 * the non-production groups when older deployments still have tasks, production otherwise.
 */
export function planShift(record: ServiceRecord, views: readonly TaskView[], desired: number, now: number): ShiftPlan {
  const config = storedShiftConfig(record.deploymentConfiguration);
  const lbs = record.loadBalancers ?? [];
  const deployments = record.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  const prior = record.berth.deploymentLoadBalancers ?? {};
  const assigned: Record<string, Wire<LoadBalancer>[]> = {};
  const toProduction = (lb: Wire<LoadBalancer>): Wire<LoadBalancer> => ({ ...lb, targetGroupArn: productionOf(record, lb) });
  const toAlternate = (lb: Wire<LoadBalancer>): Wire<LoadBalancer> => ({ ...lb, targetGroupArn: alternateOf(record, lb) ?? productionOf(record, lb) });
  const olderRunning = (d: Wire<Deployment>) => views.some((v) => v.deploymentId !== d.id && v.occupies);
  for (const d of deployments) {
    const kept = prior[d.id!];
    if (kept) assigned[d.id!] = [...kept];
    else if (d === primary && isShifting(config.strategy) && shiftsTraffic(record) && d.rolloutState === 'IN_PROGRESS' && olderRunning(d)) assigned[d.id!] = lbs.map(toAlternate);
    else assigned[d.id!] = lbs.map(toProduction);
  }
  const pairs = lbs.flatMap((lb) => {
    const alternate = alternateOf(record, lb);
    const rule = lb.advancedConfiguration?.productionListenerRule;
    return alternate ? [{ lb, production: productionOf(record, lb), alternate, rule, test: lb.advancedConfiguration?.testListenerRule }] : [];
  });
  /** Production and test rules all on production (no shift, or a rollback). */
  const settled = (): ForwardChange[] =>
    pairs.flatMap((p) => [
      ...(p.rule ? [{ ruleArn: p.rule, weights: weightsFor(p.production, p.alternate, 0) }] : []),
      ...(p.test ? [{ ruleArn: p.test, weights: weightsFor(p.production, p.alternate, 0) }] : []),
    ]);
  const green = primary ? assigned[primary.id!] ?? [] : [];
  const isGreen = primary !== undefined && green.some((lb, i) => lb.targetGroupArn !== productionOf(record, lbs[i] ?? lb));
  const shiftingNow = primary !== undefined && primary.rolloutState === 'IN_PROGRESS' && isShifting(config.strategy) && (isGreen || (!shiftsTraffic(record) && olderRunning(primary)));
  if (!shiftingNow) return { shift: undefined, holdOld: false, deploymentLoadBalancers: assigned, forwards: settled() };

  const stored = record.berth.shift;
  let shift: ShiftState = stored && stored.deploymentId === primary.id ? stored : { deploymentId: primary.id!, strategy: config.strategy, stage: 'SCALE_UP', percent: 0, since: now };
  let waitMs: number | undefined;
  for (let guard = 0; guard < 1000 && waitMs === undefined; guard++) {
    if (shift.stage === 'SCALE_UP') {
      const healthy = views.filter((v) => v.deploymentId === primary.id && v.healthy).length;
      if (healthy < desired) break;
      shift = { ...shift, stage: 'TEST_TRAFFIC_SHIFT', since: now };
    } else if (shift.stage === 'TEST_TRAFFIC_SHIFT') {
      shift = { ...shift, stage: 'PRODUCTION_TRAFFIC_SHIFT', percent: firstPercent(config), since: now };
    } else if (shift.stage === 'CLEAN_UP') {
      break;
    } else {
      const step = advance(shift, config, now);
      if ('waitMs' in step) waitMs = step.waitMs;
      else shift = step.next;
    }
  }
  const testOnGreen = shift.stage !== 'SCALE_UP';
  const forwards = pairs.flatMap((p) => [
    ...(p.rule ? [{ ruleArn: p.rule, weights: weightsFor(p.production, p.alternate, shift.percent) }] : []),
    ...(p.test ? [{ ruleArn: p.test, weights: weightsFor(p.production, p.alternate, testOnGreen ? 100 : 0) }] : []),
  ]);
  return { shift, holdOld: shift.stage !== 'CLEAN_UP', deploymentLoadBalancers: assigned, forwards, ...(waitMs !== undefined ? { requeueAfterMs: waitMs } : {}) };
}

/**
 * After the shifted-to deployment COMPLETED (its older deployments drained): its groups become production, so the
 * next deployment starts in the groups the old revision just left (ECS swaps the roles the same way).
 */
export function swapRoles(record: ServiceRecord, assigned: Readonly<Record<string, readonly Wire<LoadBalancer>[]>>, completedId: string): Record<string, string> {
  const out: Record<string, string> = { ...(record.berth.productionTargetGroups ?? {}) };
  const green = assigned[completedId] ?? [];
  (record.loadBalancers ?? []).forEach((lb, i) => {
    const now = green[i]?.targetGroupArn;
    if (now && lb.advancedConfiguration?.alternateTargetGroupArn) out[lb.targetGroupArn!] = now;
  });
  return out;
}
