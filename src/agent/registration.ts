import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Attribute, Resource } from '@aws-sdk/client-ecs';
import type { Logger } from 'pino';
import type { AgentIdentity, AgentStateStore } from './agent-state.js';
import type { EcsClient } from './aws-json/services.js';
import type { AgentConfig } from './config.js';
import { FARGATE_POOL_ATTRIBUTE } from '../model/fargate-pool.js';
import { HOST_ADDRESS_ATTRIBUTE, routeSourceAddress } from './host-address.js';

export const AGENT_VERSION = '1.0.0-berth';

/**
 * Capability attributes this agent advertises: the features its runtime supports, matched by placement
 * against the requiresAttributes of task definitions (names as the ECS agent uses them).
 */
export const capabilityAttributes = [
  ...['1.17', '1.18', '1.19', '1.20', '1.21', '1.22', '1.23', '1.24', '1.25'].map((v) => `com.amazonaws.ecs.capability.docker-remote-api.${v}`),
  'com.amazonaws.ecs.capability.privileged-container',
  'com.amazonaws.ecs.capability.logging-driver.awslogs',
  'com.amazonaws.ecs.capability.logging-driver.json-file',
  'com.amazonaws.ecs.capability.logging-driver.none',
  // Images from berth's own registry, pulled with a token the agent obtains itself.
  'com.amazonaws.ecs.capability.ecr-auth',
  'ecs.capability.execution-role-ecr-pull',
  'ecs.capability.execution-role-awslogs',
  // Container secrets, logConfiguration.secretOptions and repositoryCredentials, fetched with the task
  // execution role (agent/secrets.ts, agent/repository-credentials.ts).
  'ecs.capability.secrets.asm.environment-variables',
  'ecs.capability.secrets.ssm.environment-variables',
  'ecs.capability.secrets.asm.bootstrap.log-driver',
  'ecs.capability.secrets.ssm.bootstrap.log-driver',
  'com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager',
  // dependsOn, startTimeout and stopTimeout.
  'ecs.capability.container-ordering',
  'ecs.capability.container-health-check',
  // awsvpc: each task its own namespace and address on the agent's subnet (berth's stand-in for an ENI).
  'ecs.capability.task-eni',
  // dockerVolumeConfiguration with the local driver (task and shared scope).
  'com.amazonaws.ecs.capability.docker-plugin.local',
  // efsVolumeConfiguration, with access points (agent/efs-mounts.ts: GlusterFS FUSE mounts).
  'ecs.capability.efs',
  'ecs.capability.efsAuth',
];

export function registrationResources(config: AgentConfig): Resource[] {
  const memory = config.memoryMib - config.reservedMemory;
  if (memory <= 0) throw new Error(`ECS_RESERVED_MEMORY (${config.reservedMemory} MiB) leaves no memory to register (${config.memoryMib} MiB)`);
  return [
    { name: 'CPU', type: 'INTEGER', integerValue: config.cpuUnits },
    { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: config.reservedPorts.map(String) },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: config.reservedPortsUdp.map(String) },
  ];
}

/**
 * The attributes to register; `hostAddress` (BERTH_HOST_ADDRESS, else the route's source address) becomes
 * `berth.host-address` unless ECS_INSTANCE_ATTRIBUTES sets that attribute itself.
 */
export function registrationAttributes(config: AgentConfig, hostAddress?: string): Attribute[] {
  const arch = os.arch() === 'arm64' ? 'arm64' : 'x86_64';
  const builtIn: Record<string, string | undefined> = {
    'ecs.os-type': 'linux',
    'ecs.os-family': 'LINUX',
    'ecs.cpu-architecture': arch,
    'ecs.availability-zone': config.availabilityZone,
    'ecs.instance-type': config.instanceType,
    'ecs.ami-id': 'berth',
  };
  return [
    ...Object.entries(builtIn).map(([name, value]) => ({ name, value })),
    // A Fargate pool host runs under gVisor, which cannot run privileged containers.
    ...capabilityAttributes.filter((name) => !(config.fargate && name.endsWith('.privileged-container'))).map((name) => ({ name })),
    ...(config.fargate ? [{ name: FARGATE_POOL_ATTRIBUTE, value: 'true' }] : []),
    // Placement sends tasks with a taskRoleArn only where these are (the task definition requires them).
    ...(config.taskIamRole ? [{ name: 'com.amazonaws.ecs.capability.task-iam-role' }] : []),
    ...(config.taskIamRole && config.taskIamRoleNetworkHost ? [{ name: 'com.amazonaws.ecs.capability.task-iam-role-network-host' }] : []),
    ...(hostAddress !== undefined && !(HOST_ADDRESS_ATTRIBUTE in config.instanceAttributes) ? [{ name: HOST_ADDRESS_ATTRIBUTE, value: hostAddress }] : []),
    ...Object.entries(config.instanceAttributes).map(([name, value]) => ({ name, value })),
  ];
}

/**
 * Register this host as a container instance, as the same instance it was before when the agent has run
 * here already (its saved ARN and instance id). Creates the `default` cluster when it is missing, as the
 * ECS agent does.
 */
export async function registerInstance(
  ecs: Pick<EcsClient, 'send'>,
  config: AgentConfig,
  state: AgentStateStore,
  log: Logger,
): Promise<{ containerInstanceArn: string; clusterArn: string }> {
  const saved = await state.identity();
  const previous = saved?.cluster === config.cluster ? saved : undefined;
  // Registered anew at each start, so a host whose address changed is followed by `berth lb`.
  const hostAddress = config.hostAddress ?? (config.endpoints[0] ? await routeSourceAddress(config.endpoints[0]) : undefined);
  if (hostAddress === undefined) log.warn('no route to the control plane to take this host\'s address from: berth.host-address not registered (set BERTH_HOST_ADDRESS)');
  const ec2InstanceId = config.ec2InstanceId ?? previous?.ec2InstanceId ?? saved?.ec2InstanceId ?? `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
  const request = {
    cluster: config.cluster,
    instanceIdentityDocument: JSON.stringify({
      instanceId: ec2InstanceId,
      availabilityZone: config.availabilityZone,
      instanceType: config.instanceType,
      region: config.region,
    }),
    totalResources: registrationResources(config),
    versionInfo: { agentVersion: AGENT_VERSION, agentHash: 'berth', dockerVersion: 'runc' },
    attributes: registrationAttributes(config, hostAddress),
    ...(previous?.containerInstanceArn ? { containerInstanceArn: previous.containerInstanceArn } : {}),
    ...(Object.keys(config.containerInstanceTags).length
      ? { tags: Object.entries(config.containerInstanceTags).map(([key, value]) => ({ key, value })) }
      : {}),
  };
  let result;
  try {
    try {
      result = await ecs.send('RegisterContainerInstance', request);
    } catch (err) {
      if ((err as { name?: string }).name !== 'ClusterNotFoundException' || config.cluster !== 'default') throw err;
      log.info('creating the default cluster');
      await ecs.send('CreateCluster', { clusterName: 'default' });
      result = await ecs.send('RegisterContainerInstance', request);
    }
  } catch (err) {
    throw refusal(err) ?? err;
  }
  const containerInstanceArn = result.containerInstance!.containerInstanceArn!;
  const identity: AgentIdentity = { cluster: config.cluster, containerInstanceArn, ec2InstanceId };
  await state.setIdentity(identity);
  const clusterArn = containerInstanceArn.replace(/container-instance\/([^/]+)\/.*$/, 'cluster/$1');
  log.info({ containerInstanceArn, hostAddress, reRegistered: previous?.containerInstanceArn === containerInstanceArn }, 'registered');
  return { containerInstanceArn, clusterArn };
}

/**
 * A registration the control plane refused for lack of permission, as an error that says so: the SDK's message is
 * the policy's verdict alone, and an operator reading `berth: …` should see the error code and what to give the
 * agent's credentials. Anything else is returned undefined (thrown as it came).
 */
export function refusal(err: unknown): Error | undefined {
  const e = err as { name?: string; message?: string };
  if (e.name !== 'AccessDeniedException') return undefined;
  return new Error(
    `the control plane refused to register this container instance: AccessDeniedException: ${e.message ?? ''} ` +
      '(the agent\'s credentials need what AmazonEC2ContainerServiceforEC2Role allows; see docs/agent.md)',
    { cause: err },
  );
}
