import type { LoadBalancer } from '@aws-sdk/client-ecs';
import type { Wire } from '../../model/wire.js';
import type { InstanceSnapshot } from '../../scheduler/index.js';
import type { ServiceRecord } from '../../state/records/services.js';
import type { TaskRecord } from '../../state/records/tasks.js';

/** What a service's task looks like to its target groups (targets.ts acts on it). */

/** The part of a pass's state the target questions need. */
export interface TargetContext {
  readonly record: ServiceRecord;
  readonly instances: readonly InstanceSnapshot[];
  /** The service's target groups by ARN, with their targets (absent: the service has none, or they are gone). */
  readonly targetGroups?: ReadonlyMap<string, GroupView>;
}

/** A target group as a pass sees it. */
export interface GroupView {
  readonly arn: string;
  readonly targetType: 'instance' | 'ip';
  /** Draining lasts this long (0 when no listener uses the group: deregistration removes at once). */
  readonly drainMs: number;
  readonly targets: readonly { readonly id: string; readonly port: number; readonly state: string }[];
}

export interface TargetChange {
  readonly targetGroupArn: string;
  readonly targets: readonly { readonly id: string; readonly port: number }[];
}

/** A service's load balancer entries that name a target group. */
export function targetGroupEntries(lbs: readonly Wire<LoadBalancer>[] | undefined): Required<Pick<Wire<LoadBalancer>, 'targetGroupArn' | 'containerName' | 'containerPort'>>[] {
  return (lbs ?? []).flatMap((lb) =>
    lb.targetGroupArn && lb.containerName && lb.containerPort !== undefined ? [{ targetGroupArn: lb.targetGroupArn, containerName: lb.containerName, containerPort: lb.containerPort }] : [],
  );
}

/** The target group entries a task of `deploymentId` is registered with. */
export function entriesFor(record: ServiceRecord, deploymentId: string | undefined) {
  return targetGroupEntries(record.berth.deploymentLoadBalancers?.[deploymentId ?? ''] ?? record.loadBalancers);
}

/** Every target group the service's tasks may be in (its own and its older deployments'). */
export function allTargetGroupArns(record: ServiceRecord): string[] {
  const all = [record.loadBalancers ?? [], ...Object.values(record.berth.deploymentLoadBalancers ?? {})].flatMap((lbs) => targetGroupEntries(lbs));
  return [...new Set(all.map((e) => e.targetGroupArn))];
}

/** The target of `task` for one entry, once the task has what it takes (a host port, an address); else undefined. */
export function taskTarget(
  entry: { containerName: string; containerPort: number },
  group: Pick<GroupView, 'targetType'>,
  task: TaskRecord,
  ec2InstanceId: string | undefined,
): { id: string; port: number } | undefined {
  const container = task.task.containers?.find((c) => c.name === entry.containerName);
  if (!container) return undefined;
  if (group.targetType === 'ip') {
    const ip = container.networkInterfaces?.find((n) => n.privateIpv4Address)?.privateIpv4Address;
    return ip ? { id: ip, port: entry.containerPort } : undefined;
  }
  const binding = container.networkBindings?.find((b) => b.containerPort === entry.containerPort && (b.protocol ?? 'tcp') === 'tcp' && b.hostPort);
  return binding?.hostPort && ec2InstanceId ? { id: ec2InstanceId, port: binding.hostPort } : undefined;
}

/** What the load balancers say of a task: every target healthy, some unhealthy (which group), or not yet. */
export type ElbVerdict = { readonly state: 'healthy' } | { readonly state: 'waiting' } | { readonly state: 'unhealthy'; readonly targetGroupArn: string };

export function elbVerdict(state: TargetContext, task: TaskRecord): ElbVerdict {
  const entries = entriesFor(state.record, task.task.startedBy);
  let waiting = false;
  for (const e of entries) {
    const group = state.targetGroups?.get(e.targetGroupArn);
    if (!group) {
      waiting = true;
      continue;
    }
    const target = taskTarget(e, group, task, ec2Of(state, task));
    const stored = target && group.targets.find((t) => t.id === target.id && t.port === target.port);
    if (stored?.state === 'unhealthy') return { state: 'unhealthy', targetGroupArn: e.targetGroupArn };
    if (stored?.state !== 'healthy') waiting = true;
  }
  return waiting ? { state: 'waiting' } : { state: 'healthy' };
}

/** The EC2 id of the task's container instance. */
export const ec2Of = (state: Pick<TargetContext, 'instances'>, task: TaskRecord) => state.instances.find((i) => i.id === task.instanceId)?.ec2InstanceId;

