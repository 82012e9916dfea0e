import type { ServiceEvent } from '@aws-sdk/client-ecs';
import type { Wire } from '../wire.js';

/** A service keeps its newest events, at most this many (ECS shows the last 100). */
export const MAX_SERVICE_EVENTS = 100;

/** An event repeating an identical message from less than this long ago is not recorded again. */
export const EVENT_REPEAT_WINDOW_MS = 5 * 60_000;

/** Tasks named in one "has started" / "has stopped" message; more tasks make more messages. */
const TASKS_PER_MESSAGE = 10;

const taskList = (ids: readonly string[]) => ids.map((id) => `(task ${id})`).join(' ');

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** ECS's service event messages, word for word. */
export const serviceMessages = {
  started: (service: string, taskIds: readonly string[]) =>
    chunks(taskIds, TASKS_PER_MESSAGE).map((ids) => `(service ${service}) has started ${ids.length} tasks: ${taskList(ids)}.`),
  stopped: (service: string, taskIds: readonly string[]) =>
    chunks(taskIds, TASKS_PER_MESSAGE).map((ids) => `(service ${service}) has stopped ${ids.length} running tasks: ${taskList(ids)}.`),
  steadyState: (service: string) => `(service ${service}) has reached a steady state.`,
  deploymentCompleted: (service: string, deploymentId: string) => `(service ${service}) (deployment ${deploymentId}) deployment completed.`,
  deploymentFailed: (service: string, deploymentId: string) =>
    `(service ${service}) (deployment ${deploymentId}) deployment failed: tasks failed to start.`,
  rollingBack: (service: string, deploymentId: string) => `(service ${service}) rolling back to deployment ${deploymentId}.`,
  /**
   * `reason` is the placement engine's: "no container instance met all of its requirements. …". ECS ends the
   * event with a pointer to its guide (as in DescribeServices's example in the model's examples file).
   */
  unableToPlace: (service: string, reason: string) =>
    `(service ${service}) was unable to place a task because ${reason} For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`,
  unableToStartConsistently: (service: string) => `(service ${service}) is unable to consistently start tasks successfully.`,
  failedHealthChecks: (service: string, taskId: string) => `(service ${service}) (task ${taskId}) failed container health checks.`,
  failedElbHealthChecks: (service: string, taskId: string, targetGroupArn: string) =>
    `(service ${service}) (task ${taskId}) failed ELB health checks in (target-group ${targetGroupArn}).`,
  registeredTargets: (service: string, count: number, targetGroupArn: string) => `(service ${service}) registered ${count} targets in (target-group ${targetGroupArn})`,
  deregisteredTargets: (service: string, count: number, targetGroupArn: string) => `(service ${service}) deregistered ${count} targets in (target-group ${targetGroupArn})`,
  unableToScaleIn: (service: string, protectedTasks: number) => `(service ${service}) was unable to scale in due to (reason: ${protectedTasks} tasks under protection).`,
} as const;

/** An event to record. A condition (a task that cannot be placed) is not recorded again within the repeat window. */
export interface NewEvent {
  readonly message: string;
  readonly condition?: boolean;
}

/** Messages that report an ongoing condition rather than something that happened once. */
export const condition = (message: string): NewEvent => ({ message, condition: true });
export const happened = (message: string): NewEvent => ({ message });

/**
 * `events` (newest first) with `added` recorded as new events (in the order given, so the last is the newest),
 * capped at {@link MAX_SERVICE_EVENTS}. A condition identical to one recorded within the repeat window is left
 * out, so a state that persists does not flood the list.
 */
export function withEvents(
  events: readonly Wire<ServiceEvent>[],
  added: readonly NewEvent[],
  nowMs: number,
  newId: () => string,
  repeatWindowMs = EVENT_REPEAT_WINDOW_MS,
): Wire<ServiceEvent>[] {
  if (added.length === 0) return [...events];
  const recent = new Set(events.filter((e) => (e.createdAt ?? 0) * 1000 > nowMs - repeatWindowMs).map((e) => e.message));
  const fresh: Wire<ServiceEvent>[] = [];
  for (const { message, condition: isCondition } of added) {
    if (isCondition && recent.has(message)) continue;
    recent.add(message);
    fresh.unshift({ id: newId(), createdAt: nowMs / 1000, message });
  }
  return [...fresh, ...events].slice(0, MAX_SERVICE_EVENTS);
}
