/**
 * CapacityProviderReservation, as ECS documents it for cluster auto scaling ("Deep Dive on Amazon ECS Cluster Auto
 * Scaling" and the developer guide's "cluster auto scaling"): CPR = M / N × 100, where
 *
 *   N = the group's instances that are running (berth: InService, their agent registered);
 *   M = the instances needed to run every task of the provider, PROVISIONING ones included:
 *       - no task waits: the running instances that run at least one task (daemon tasks do not count), so an
 *         idle instance pulls CPR under 100 and lets the group shrink;
 *       - tasks wait: N plus an estimate of the new instances they need, held within the provider's
 *         minimumScalingStepSize and maximumScalingStepSize.
 *   Special cases: N = 0 and M = 0 → 100 (nothing to do); N = 0 and M > 0 → 200 (scale out from zero).
 *
 * The estimate is ECS's lower bound: waiting tasks grouped by identical CPU and memory, each group needing
 * ceil(count / tasks-per-instance) instances of the size the group launches, the largest group's figure taken
 * (tasks of different groups may share instances, so the sum would overshoot). A task larger than an instance can
 * never be placed by scaling out and adds nothing. Pure: the controller gathers the figures.
 */

export interface TaskSize {
  /** CPU units. */
  readonly cpu: number;
  /** MiB. */
  readonly memory: number;
}

export interface ReservationInput {
  /** N: running instances of the group. */
  readonly running: number;
  /** Running instances that run at least one (non-daemon) task. */
  readonly busy: number;
  /** Tasks of this provider waiting in PROVISIONING. */
  readonly waiting: readonly TaskSize[];
  /** The size of an instance the group launches. */
  readonly instance: { readonly cpuUnits: number; readonly memoryMib: number };
  readonly minimumScalingStepSize: number;
  readonly maximumScalingStepSize: number;
}

export interface Reservation {
  /** The metric, a percentage. */
  readonly value: number;
  /** M: the instances needed. */
  readonly needed: number;
  /** N. */
  readonly running: number;
}

/** New instances the waiting tasks need at least (0 when none waits or none could ever fit). */
export function instancesForWaitingTasks(waiting: readonly TaskSize[], instance: ReservationInput['instance']): number {
  const groups = new Map<string, { size: TaskSize; count: number }>();
  for (const t of waiting) {
    const key = `${t.cpu}/${t.memory}`;
    const g = groups.get(key) ?? { size: t, count: 0 };
    g.count += 1;
    groups.set(key, g);
  }
  let most = 0;
  for (const { size, count } of groups.values()) {
    const byCpu = size.cpu > 0 ? Math.floor(instance.cpuUnits / size.cpu) : Infinity;
    const byMemory = size.memory > 0 ? Math.floor(instance.memoryMib / size.memory) : Infinity;
    const perInstance = Math.min(byCpu, byMemory);
    if (perInstance < 1) continue;
    most = Math.max(most, perInstance === Infinity ? 1 : Math.ceil(count / perInstance));
  }
  return most;
}

export function capacityProviderReservation(input: ReservationInput): Reservation {
  const { running } = input;
  const estimate = instancesForWaitingTasks(input.waiting, input.instance);
  const needed =
    estimate > 0
      ? running + Math.min(input.maximumScalingStepSize, Math.max(input.minimumScalingStepSize, estimate))
      : Math.min(input.busy, running);
  if (running === 0) return { value: needed === 0 ? 100 : 200, needed, running };
  return { value: (needed / running) * 100, needed, running };
}

/**
 * The group size that brings CPR to `targetCapacity` (target tracking's answer): ceil(M × 100 / target). With a
 * target under 100 that leaves spare instances: M = 4 at 50 % asks for 8.
 */
export function capacityForTarget(needed: number, targetCapacity: number): number {
  return Math.max(0, Math.ceil((needed * 100) / targetCapacity - 1e-9));
}
