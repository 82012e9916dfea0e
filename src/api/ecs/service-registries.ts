import type { ServiceRegistry, TaskDefinition } from '@aws-sdk/client-ecs';
import { cloudMapServiceInTx } from '../../cloudmap/service-instances.js';
import { invalidParameter } from '../../model/errors.js';
import type { Wire } from '../../model/wire.js';
import { transact } from '../../store/transact.js';
import type { EcsEnv } from './env.js';

/**
 * A service's `serviceRegistries` checked as ECS checks them (InvalidParameterException, ECS's words where they are
 * known): at most one registry; it names a Cloud Map service that exists; `port` and `containerName`/`containerPort`
 * are not given together, and the container and port are the task definition's; bridge and host tasks name a
 * container and port (they are reached on the host's dynamic port); bridge tasks have no address of their own, so
 * their registry cannot have A/AAAA records (only SRV); an SRV record needs a port from one of the two; a registry
 * without SRV records takes no port. Returns the entries as stored.
 */
export async function checkedServiceRegistries(
  env: EcsEnv,
  registries: readonly Wire<ServiceRegistry>[],
  td: Wire<TaskDefinition> | undefined,
): Promise<Wire<ServiceRegistry>[]> {
  if (registries.length > 1) throw invalidParameter('serviceRegistries: only one service registry is supported per service.');
  const out: Wire<ServiceRegistry>[] = [];
  for (const r of registries) {
    if (!r.registryArn) throw invalidParameter('serviceRegistries.registryArn: a registry ARN is required.');
    const service = await transact(env.store, (tx) => cloudMapServiceInTx(tx, r.registryArn!));
    if (!service) throw invalidParameter(`The service registry ${r.registryArn} does not exist. Create it with AWS Cloud Map first.`);
    const named = r.containerName !== undefined && r.containerName !== null;
    const ported = r.containerPort !== undefined && r.containerPort !== null;
    const port = r.port !== undefined && r.port !== null;
    if (named !== ported) throw invalidParameter(`serviceRegistries: 'containerName' and 'containerPort' go together; specify both or neither. Registry: ${r.registryArn}`);
    if (port && named) throw invalidParameter(`serviceRegistries: specify either 'port' or 'containerName' and 'containerPort', not both. Registry: ${r.registryArn}`);
    for (const [field, value] of [['port', r.port], ['containerPort', r.containerPort]] as const) {
      if (value !== undefined && value !== null && (!Number.isInteger(value) || value < 1 || value > 65535)) {
        throw invalidParameter(`serviceRegistries.${field}: ${value} is not a port between 1 and 65535.`);
      }
    }
    const types = (service.dns?.records ?? []).map((x) => x.Type);
    const srv = types.includes('SRV');
    if (td) {
      const mode = td.networkMode ?? 'bridge';
      if (mode !== 'awsvpc' && !named) {
        throw invalidParameter(`When specifying 'host' or 'bridge' for networkMode, values for 'containerName' and 'containerPort' must be specified from the task definition. Registry: ${r.registryArn}`);
      }
      if (mode === 'bridge' && (types.includes('A') || types.includes('AAAA'))) {
        throw invalidParameter(`The service registry ${r.registryArn} has ${types.includes('A') ? 'an A' : 'an AAAA'} DNS record, which is not supported with the bridge network mode: use SRV records only, or the awsvpc or host network mode.`);
      }
      if (mode === 'awsvpc' && srv && !named && !port) {
        throw invalidParameter(`The service registry ${r.registryArn} has an SRV DNS record: specify either 'port' or 'containerName' and 'containerPort' in serviceRegistries.`);
      }
      if (mode === 'awsvpc' && !srv && ported) throw invalidParameter("The values specified for serviceRegistries do not require a value for 'containerPort'. Remove the value and retry.");
      if (mode === 'awsvpc' && !srv && port) throw invalidParameter("The values specified for serviceRegistries do not require a value for 'port'. Remove the value and retry.");
      if (mode !== 'awsvpc' && port) throw invalidParameter(`serviceRegistries.port is used only with the awsvpc network mode; specify 'containerName' and 'containerPort'. Registry: ${r.registryArn}`);
      if (named) {
        const container = td.containerDefinitions?.find((c) => c.name === r.containerName);
        if (!container) throw invalidParameter(`The container ${r.containerName} does not exist in the task definition.`);
        if (!container.portMappings?.some((p) => p.containerPort === r.containerPort)) {
          throw invalidParameter(`The container ${r.containerName} did not have a container port ${r.containerPort} defined.`);
        }
      }
    } else if (srv && !named && !port) {
      throw invalidParameter(`The service registry ${r.registryArn} has an SRV DNS record: specify either 'port' or 'containerName' and 'containerPort' in serviceRegistries.`);
    }
    out.push({
      registryArn: r.registryArn,
      ...(port ? { port: r.port! } : {}),
      ...(named ? { containerName: r.containerName!, containerPort: r.containerPort! } : {}),
    });
  }
  return out;
}
