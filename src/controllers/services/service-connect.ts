/**
 * Service Connect tasks in Cloud Map, as ECS keeps them: each task of a Service Connect service that serves
 * requests (RUNNING, asked to keep running, not UNHEALTHY) is an instance (id: the task id) of the Cloud Map
 * service of each discoveryName of its deployment, with ECS's attributes; a task that stops serving is
 * deregistered. `instancesFor` is pure; `syncServiceConnectInstances` applies it with the Cloud Map catalog,
 * after the service controller's pass (its own transactions: Cloud Map is bookkeeping here, the proxies
 * follow the ECS API).
 */
import { CloudMapCatalog } from '../../cloudmap/catalog.js';
import { ecsRegistrar, registeredByEcsService } from '../../state/records/cloudmap.js';
import type { ArnScope } from '../../model/arn.js';
import type { InstanceRecord as HostRecord } from '../../state/records/instances.js';
import type { ServiceRecord } from '../../state/records/services.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import type { Store } from '../../store/store.js';

interface ScDeployment {
  readonly id?: string;
  readonly status?: string;
  readonly serviceConnectConfiguration?: { readonly enabled?: boolean; readonly services?: readonly { readonly portName?: string; readonly discoveryName?: string }[] };
  readonly serviceConnectResources?: readonly { readonly discoveryName?: string; readonly discoveryArn?: string }[];
}

/** What a service's tasks should be in Cloud Map; `owner` names the ECS service whose instances these are. */
export interface ServiceConnectPlan {
  readonly wanted: WantedInstance[];
  readonly services: string[];
  readonly owner: { readonly cluster: string; readonly service: string; readonly serviceArn: string };
}

/** One instance a task should have: in which Cloud Map service, with which attributes. */
export interface WantedInstance {
  readonly serviceArn: string;
  readonly instanceId: string;
  readonly attributes: Record<string, string>;
}

const HOST_ADDRESS = 'berth.host-address';

/**
 * The instances the service's tasks should have now, and the Cloud Map services they live in (where the
 * others are deregistered). `portOf(taskDefinitionArn, portName)` is the container and its port.
 */
export function instancesFor(
  record: ServiceRecord,
  tasks: readonly TaskRecord[],
  hosts: ReadonlyMap<string, HostRecord>,
  portOf: (taskDefinitionArn: string, portName: string) => { container: string; containerPort: number } | undefined,
  region: string,
): ServiceConnectPlan {
  const deployments = (record.deployments ?? []) as readonly ScDeployment[];
  const services = new Set<string>();
  for (const d of deployments) for (const r of d.serviceConnectResources ?? []) if (r.discoveryArn) services.add(r.discoveryArn);
  const wanted: WantedInstance[] = [];
  for (const t of tasks) {
    const task = t.task;
    if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING' || task.healthStatus === 'UNHEALTHY') continue;
    const d = deployments.find((x) => x.id === task.startedBy) ?? deployments.find((x) => x.status === 'PRIMARY');
    if (!d?.serviceConnectConfiguration?.enabled) continue;
    for (const s of d.serviceConnectConfiguration.services ?? []) {
      const arn = d.serviceConnectResources?.find((r) => r.discoveryName === (s.discoveryName ?? s.portName))?.discoveryArn;
      const mapping = s.portName ? portOf(task.taskDefinitionArn!, s.portName) : undefined;
      if (!arn || !mapping) continue;
      const eni = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface')?.details?.find((x) => x.name === 'privateIPv4Address')?.value;
      const host = t.instanceId ? hosts.get(t.instanceId) : undefined;
      const hostAddress = host?.instance.attributes?.find((a) => a.name === HOST_ADDRESS)?.value;
      const binding = task.containers?.find((c) => c.name === mapping.container)?.networkBindings?.find((b) => b.containerPort === mapping.containerPort);
      const address = eni ?? hostAddress;
      const port = eni ? mapping.containerPort : binding?.hostPort;
      if (!address || !port) continue;
      wanted.push({
        serviceArn: arn,
        instanceId: t.id,
        attributes: {
          AWS_INSTANCE_IPV4: address,
          AWS_INSTANCE_PORT: String(port),
          ...(task.availabilityZone ? { AVAILABILITY_ZONE: task.availabilityZone } : {}),
          ECS_CLUSTER_NAME: t.cluster,
          ECS_SERVICE_NAME: record.serviceName!,
          ECS_TASK_DEFINITION_FAMILY: task.taskDefinitionArn!.split('/').at(-1)!.split(':')[0]!,
          REGION: region,
        },
      });
    }
  }
  return { wanted, services: [...services], owner: { cluster: record.berth.cluster, service: record.serviceName!, serviceArn: record.serviceArn! } };
}

/** Register what is wanted and not there (or changed), deregister what is there and not wanted. */
export async function syncServiceConnectInstances(store: Store, scope: ArnScope, now: () => number, plan: ServiceConnectPlan): Promise<void> {
  if (plan.services.length === 0) return;
  const catalog = new CloudMapCatalog({ store, scope, now });
  for (const serviceArn of plan.services) {
    const service = await catalog.service(undefined, serviceArn).catch(() => undefined);
    // Deleted from Cloud Map under the ECS service: nothing to keep there.
    if (!service) continue;
    const present = new Map((await catalog.instances(service.id)).map((i) => [i.id, i]));
    const wanted = plan.wanted.filter((w) => w.serviceArn === serviceArn);
    for (const w of wanted) {
      const have = present.get(w.instanceId);
      if (have && have.registeredBy === ecsRegistrar(plan.owner.serviceArn) && JSON.stringify(have.attributes) === JSON.stringify(w.attributes)) continue;
      await catalog.registerInstance(service.id, w.instanceId, w.attributes, undefined, ecsRegistrar(plan.owner.serviceArn));
    }
    for (const [id, instance] of present) {
      // Only what this ECS service registered (others may have registered in the same Cloud Map service).
      if (registeredByEcsService(instance, plan.owner) && !wanted.some((w) => w.instanceId === id)) await catalog.deregisterInstance(service.id, id).catch(() => undefined);
    }
  }
}
