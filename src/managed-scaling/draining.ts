import type { HostInstanceRecord, TerminationHook } from '../state/records/host-groups.js';

/**
 * Managed draining (ECS's `managedDraining: ENABLED`, its default). ECS puts a termination lifecycle hook on the
 * provider's group; an instance the group takes out of service (scale-in, TerminateInstanceInAutoScalingGroup, a
 * lower desired capacity) waits in Terminating:Wait while ECS sets its container instance to DRAINING — the service
 * scheduler then starts its service tasks elsewhere and stops them there — and the hook is completed once no task
 * but daemon tasks runs on it, or when the hook times out. Pure: one waiting instance's next step.
 *
 *   Terminating:Wait ──container instance ACTIVE──▶ set DRAINING ──no task left──▶ Terminating (hook completed)
 *          │                                                                            ▲
 *          └──── no container instance / the hook's timeout passed ─────────────────────┘
 */

export const MANAGED_DRAINING_HOOK = 'ecs-managed-draining-termination-hook';

export interface DrainView {
  readonly now: number;
  /** The instance's container instance status, if it is registered. */
  readonly containerInstanceStatus: string | undefined;
  /** Tasks (daemon tasks aside) not yet stopped on it. */
  readonly liveTasks: number;
}

export type DrainStep =
  | { readonly kind: 'set-draining' }
  | { readonly kind: 'wait' }
  | { readonly kind: 'continue'; readonly why: 'drained' | 'timed-out' | 'not-registered' };

export function drainStep(instance: HostInstanceRecord, hook: TerminationHook, view: DrainView): DrainStep {
  if (view.containerInstanceStatus === undefined || view.containerInstanceStatus === 'INACTIVE') return { kind: 'continue', why: 'not-registered' };
  if (view.liveTasks === 0) return { kind: 'continue', why: 'drained' };
  if (view.now - (instance.waitingSince ?? view.now) >= hook.heartbeatTimeoutS * 1000) return { kind: 'continue', why: 'timed-out' };
  if (view.containerInstanceStatus !== 'DRAINING') return { kind: 'set-draining' };
  return { kind: 'wait' };
}
