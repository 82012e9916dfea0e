import { isTerminating, type HostGroupRecord, type HostInstanceRecord } from '../state/records/host-groups.js';

/**
 * What a group needs next, decided from its record alone (pure: the controller applies the steps in one
 * transaction, then calls provisioners for what the record then says).
 *
 *   - a Pending instance whose agent has registered goes InService;
 *   - a Pending instance past the registration timeout is taken out (and so replaced by a launch);
 *   - fewer live instances (Pending + InService) than desired: launches, each in the group's zone with the
 *     fewest live instances (the first listed on a tie) — Auto Scaling's zone balancing;
 *   - more than desired: terminations among the unprotected, each from the zone with the most live instances;
 *     within it an instance of another launch configuration first, then a Pending one, then the newest.
 *     (Auto Scaling's Default policy ends on "closest to the next billing hour"; berth bills no hours.)
 */
export type PlanStep =
  | { readonly kind: 'in-service'; readonly instanceId: string }
  | { readonly kind: 'registration-timeout'; readonly instanceId: string }
  | { readonly kind: 'launch'; readonly availabilityZone: string }
  | { readonly kind: 'scale-in'; readonly instanceId: string };

export interface PlanView {
  readonly now: number;
  /** Whether a container instance with this EC2 instance id is registered with its agent connected. */
  readonly registered: (instanceId: string) => boolean;
  readonly registrationTimeoutMs: number;
}

const live = (i: HostInstanceRecord) => !isTerminating(i.lifecycleState);

export function planGroup(group: HostGroupRecord, view: PlanView): PlanStep[] {
  const steps: PlanStep[] = [];
  const timedOut = new Set<string>();
  for (const i of group.instances) {
    if (i.lifecycleState !== 'Pending') continue;
    if (view.registered(i.instanceId)) steps.push({ kind: 'in-service', instanceId: i.instanceId });
    else if (view.now - i.launchedAt >= view.registrationTimeoutMs) {
      steps.push({ kind: 'registration-timeout', instanceId: i.instanceId });
      timedOut.add(i.instanceId);
    }
  }
  if (group.deleting) return steps;
  const remaining = group.instances.filter((i) => live(i) && !timedOut.has(i.instanceId));
  const perZone = new Map(group.availabilityZones.map((z) => [z, 0]));
  for (const i of remaining) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
  const gap = group.desiredCapacity - remaining.length;
  for (let n = 0; n < gap; n++) {
    const zone = group.availabilityZones.reduce((best, z) => (perZone.get(z)! < perZone.get(best)! ? z : best));
    perZone.set(zone, perZone.get(zone)! + 1);
    steps.push({ kind: 'launch', availabilityZone: zone });
  }
  const candidates = remaining.filter((i) => !i.protectedFromScaleIn);
  for (let n = 0; n < -gap && candidates.length > 0; n++) {
    const zone = [...new Set(candidates.map((i) => i.availabilityZone))].reduce((best, z) => ((perZone.get(z) ?? 0) > (perZone.get(best) ?? 0) ? z : best));
    const pick = candidates.filter((i) => i.availabilityZone === zone).sort((a, b) => scaleInOrder(group, a, b))[0]!;
    candidates.splice(candidates.indexOf(pick), 1);
    perZone.set(zone, (perZone.get(zone) ?? 1) - 1);
    steps.push({ kind: 'scale-in', instanceId: pick.instanceId });
  }
  return steps;
}

function scaleInOrder(group: HostGroupRecord, a: HostInstanceRecord, b: HostInstanceRecord): number {
  const oldConfig = (i: HostInstanceRecord) => (i.launchConfigurationName !== group.launchConfigurationName ? 0 : 1);
  const pending = (i: HostInstanceRecord) => (i.lifecycleState === 'Pending' ? 0 : 1);
  return oldConfig(a) - oldConfig(b) || pending(a) - pending(b) || b.launchedAt - a.launchedAt;
}
