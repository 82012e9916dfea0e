/**
 * A service's tasks in its Cloud Map service (`serviceRegistries`), as a pure step after the plan (ECS's behaviour):
 *
 *   task RUNNING (and HEALTHY, when its containers have health checks) ──register──▶ instance in the answers
 *        │                                                                    │
 *        │   custom health (HealthCheckCustomConfig): UNHEALTHY ──▶ instance UNHEALTHY (out of the answers),
 *        │                                            HEALTHY again ──▶ HEALTHY (back in)
 *        │   no custom health: UNHEALTHY ──▶ deregistered
 *        ▼
 *   stop planned, asked to stop, stopped, lost, gone ──deregister──▶ out of the answers
 *
 * The instance id is the task id, as ECS does it, and the attributes are ECS's: AWS_INSTANCE_IPV4 (the awsvpc
 * address, or the host's `berth.host-address` for bridge and host tasks), AWS_INSTANCE_PORT (the registry's `port`,
 * or the container port's host port for bridge tasks and the container port itself for awsvpc tasks), and
 * AVAILABILITY_ZONE, ECS_CLUSTER_NAME, ECS_SERVICE_NAME, ECS_TASK_DEFINITION_FAMILY, REGION. The service's own
 * instances are those whose ECS_CLUSTER_NAME and ECS_SERVICE_NAME are this service's: any of them that is not a task
 * to be registered goes (a task forgotten since, a registry entry changed), so a pass converges from any state.
 */
import type { ServiceRegistry } from '@aws-sdk/client-ecs';
import type { ServiceInstance } from '../../cloudmap/service-instances.js';
import { registeredByEcsService } from '../../state/records/cloudmap.js';
import type { Wire } from '../../model/wire.js';
import type { InstanceSnapshot } from '../../scheduler/index.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import type { RegistryChange, RegistryView } from './registry-view.js';
import type { ServiceState, TaskView } from './state.js';

/** The instance attribute an agent registers with its host's address (bridge and host tasks are reached there). */
export const HOST_ADDRESS_ATTRIBUTE = 'berth.host-address';

/** Who the service is, for the attributes. */
interface Owner {
  readonly cluster: string;
  readonly service: string;
  readonly region: string;
}

/**
 * The registrations, deregistrations and health changes that bring each registry of the service in line with its
 * tasks. `stopping` holds the tasks this pass stops (or holds back to drain from load balancers): they leave now.
 */
export function planRegistries(state: ServiceState, views: readonly TaskView[], stopping: ReadonlySet<string>): RegistryChange[] {
  const owner: Owner = { cluster: state.record.berth.cluster, service: state.record.serviceName!, region: regionOf(state.record.serviceArn) };
  const byId = new Map(state.instances.map((i) => [i.id, i]));
  const out: RegistryChange[] = [];
  const arns = new Set([...(state.record.serviceRegistries ?? []).map((r) => r.registryArn!), ...(state.registries?.keys() ?? [])]);
  for (const arn of arns) {
    const registry = state.registries?.get(arn);
    if (!registry) continue;
    const entry = (state.record.serviceRegistries ?? []).find((r) => r.registryArn === arn);
    // Only what this ECS service registered: another registrar's instances (RegisterInstance, another service) stay.
    const mine = registry.instances.filter((i) => registeredByEcsService(i, { serviceArn: state.record.serviceArn!, ...owner }));
    const existing = new Map(mine.map((i) => [i.id, i]));
    const keep = new Set<string>();
    const register: ServiceInstance[] = [];
    const health: { id: string; health: 'HEALTHY' | 'UNHEALTHY' }[] = [];
    for (const v of entry ? views : []) {
      if (!v.live || !v.running || stopping.has(v.id)) continue;
      const checked = state.taskDefinitions.get(v.record.task.taskDefinitionArn ?? '')?.healthChecked ?? false;
      const status = v.record.task.healthStatus ?? 'UNKNOWN';
      const sick = status === 'UNHEALTHY';
      const ready = checked ? status === 'HEALTHY' : !sick;
      const had = existing.get(v.id);
      // With custom health a registered task that falls sick stays, marked UNHEALTHY; without, it goes.
      if (!ready && !(registry.customHealth && had && sick)) continue;
      const attributes = instanceAttributes(entry!, registry, v.record, v.instanceId ? byId.get(v.instanceId) : undefined, owner);
      if (!attributes) continue;
      keep.add(v.id);
      if (!had || !sameAttributes(had.attributes, attributes)) register.push({ id: v.id, attributes });
      const want = sick ? 'UNHEALTHY' : 'HEALTHY';
      if (registry.customHealth && (had?.health ?? 'HEALTHY') !== want) health.push({ id: v.id, health: want });
    }
    const deregister = mine.filter((i) => !keep.has(i.id)).map((i) => i.id);
    if (register.length > 0 || deregister.length > 0 || health.length > 0) out.push({ registryArn: arn, register, deregister, health });
  }
  return out;
}

/**
 * ECS's attributes for `task` in a registry, once the task has what its records need (an address; a port for SRV);
 * else undefined (registered by a later pass, when the agent has reported it).
 */
export function instanceAttributes(
  entry: Wire<ServiceRegistry>,
  registry: Pick<RegistryView, 'recordTypes'>,
  task: TaskRecord,
  instance: InstanceSnapshot | undefined,
  owner: Owner,
): Record<string, string> | undefined {
  const containers = task.task.containers ?? [];
  const named = entry.containerName !== undefined ? containers.find((c) => c.name === entry.containerName) : undefined;
  if (entry.containerName !== undefined && !named) return undefined;
  const eni = [named, ...containers].find((c) => c?.networkInterfaces?.some((n) => n.privateIpv4Address))?.networkInterfaces?.find((n) => n.privateIpv4Address)?.privateIpv4Address;
  const address = eni ?? instance?.attributes.get(HOST_ADDRESS_ATTRIBUTE);
  if (!address) return undefined;
  let port: number | undefined = entry.port;
  if (port === undefined && named && entry.containerPort !== undefined) {
    port = eni
      ? entry.containerPort
      : named.networkBindings?.find((b) => b.containerPort === entry.containerPort && (b.protocol ?? 'tcp') === 'tcp' && b.hostPort)?.hostPort;
    if (port === undefined) return undefined;
  }
  if (registry.recordTypes.includes('SRV') && port === undefined) return undefined;
  const zone = task.task.availabilityZone ?? instance?.attributes.get('ecs.availability-zone');
  const family = /:task-definition\/(.+):\d+$/.exec(task.task.taskDefinitionArn ?? '')?.[1];
  return {
    AWS_INSTANCE_IPV4: address,
    ...(port !== undefined ? { AWS_INSTANCE_PORT: String(port) } : {}),
    ...(zone ? { AVAILABILITY_ZONE: zone } : {}),
    ECS_CLUSTER_NAME: owner.cluster,
    ECS_SERVICE_NAME: owner.service,
    ...(family ? { ECS_TASK_DEFINITION_FAMILY: family } : {}),
    REGION: owner.region,
  };
}

/** The region of an ECS ARN (`arn:aws:ecs:<region>:…`). */
const regionOf = (arn: string | undefined) => arn?.split(':')[3] ?? '';

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((key) => a[key] === b[key]);
}
