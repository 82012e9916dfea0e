import type { LoadBalancer, TaskDefinition } from '@aws-sdk/client-ecs';
import { targetGroupInTx } from '../../elb/service-targets.js';
import { invalidParameter } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { transact } from '../../store/transact.js';
import { checkedAdvancedConfiguration } from './advanced-configuration.js';
import type { EcsEnv } from './env.js';

/** ECS's limit on target groups per service. */
const MAX_TARGET_GROUPS = 5;

/**
 * A service's `loadBalancers` checked as ECS checks them (InvalidParameterException, its words): each names a target
 * group that exists and that a load balancer forwards to, a container of the task definition and a port that
 * container maps; `instance` groups go with bridge/host networking and `ip` groups with awsvpc. Classic Load
 * Balancers (`loadBalancerName`) do not exist in berth. Returns the entries as stored.
 */
export async function checkedLoadBalancers(env: EcsEnv, lbs: readonly Wire<LoadBalancer>[], td: Wire<TaskDefinition> | undefined): Promise<Wire<LoadBalancer>[]> {
  if (lbs.length > MAX_TARGET_GROUPS) throw invalidParameter(`loadBalancers: a service can have at most ${MAX_TARGET_GROUPS} target groups.`);
  const out: Wire<LoadBalancer>[] = [];
  for (const lb of lbs) {
    if (lb.loadBalancerName) throw invalidParameter(`loadBalancers.loadBalancerName: The load balancer ${lb.loadBalancerName} does not exist.`);
    if (!lb.targetGroupArn) throw invalidParameter('loadBalancers.targetGroupArn: a target group is required.');
    if (!lb.containerName) throw invalidParameter('loadBalancers.containerName: containerName is required with a target group.');
    if (lb.containerPort === undefined || lb.containerPort === null) throw invalidParameter('loadBalancers.containerPort: containerPort is required with a target group.');
    if (out.some((o) => o.targetGroupArn === lb.targetGroupArn && o.containerName === lb.containerName && o.containerPort === lb.containerPort)) {
      throw invalidParameter(`loadBalancers: the target group ${lb.targetGroupArn} is given twice for the same container and port.`);
    }
    const tg = await transact(env.store, (tx) => targetGroupInTx(tx, lb.targetGroupArn!));
    if (!tg) throw invalidParameter(`Unable to validate the specified targetGroupArn: target group ${lb.targetGroupArn} not found.`);
    if (tg.usedBy.length === 0) throw invalidParameter(`The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`);
    if (td) {
      const container = td.containerDefinitions?.find((c) => c.name === lb.containerName);
      if (!container) throw invalidParameter(`The container ${lb.containerName} does not exist in the task definition.`);
      if (!container.portMappings?.some((p) => p.containerPort === lb.containerPort)) {
        throw invalidParameter(`The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`);
      }
      const mode = td.networkMode ?? 'bridge';
      if ((tg.targetType === 'ip') !== (mode === 'awsvpc')) {
        throw invalidParameter(`The provided target group ${tg.arn} has target type ${tg.targetType}, which is incompatible with the ${mode} network mode specified in the task definition.`);
      }
    }
    const advanced = lb.advancedConfiguration ? await checkedAdvancedConfiguration(env, lb.targetGroupArn, tg.targetType, lb.advancedConfiguration) : undefined;
    out.push({ targetGroupArn: lb.targetGroupArn, containerName: lb.containerName, containerPort: lb.containerPort, ...(advanced ? { advancedConfiguration: advanced } : {}) });
  }
  return out;
}
