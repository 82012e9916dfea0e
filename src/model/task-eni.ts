import { randomBytes, randomUUID } from 'node:crypto';
import type { AwsVpcConfiguration, NetworkConfiguration, Task } from '@aws-sdk/client-ecs';
import type { TaskAttachmentChange } from './acs.js';
import { invalidParameter } from './errors.js';
import type { Wire } from './wire.js';

/**
 * An awsvpc task's network interface, as ECS shows it in `attachments` (type ElasticNetworkInterface).
 * In berth the agent gives the task its own namespace and an address on its subnet; the interface goes
 *
 *   PRECREATED (RunTask) ──agent attached──▶ ATTACHED ──task STOPPED──▶ DELETED
 *
 * The subnets and security groups of the request are recorded as given (berth has no VPC to check them
 * against); the first subnet is the interface's subnetId, as ECS picks one of them.
 */

/**
 * The awsvpcConfiguration a launch of a task definition with `networkMode` runs with: required for
 * awsvpc, refused for every other mode, as ECS does. Throws InvalidParameterException naming the field.
 *
 * `assignPublicIp: ENABLED` is ECS's to refuse on the EC2 launch type (its message) and to accept on Fargate. berth
 * records it as given on a Fargate launch, but has no public addresses to hand out: the task gets its private
 * address on its subnet only, reachable as any awsvpc task is (docs/runtimes.md).
 */
export function awsvpcConfigurationFor(
  networkMode: string | undefined,
  given: NetworkConfiguration | undefined,
  launch: { readonly fargate: boolean } = { fargate: false },
): Wire<AwsVpcConfiguration> | undefined {
  const config = given?.awsvpcConfiguration;
  if (networkMode !== 'awsvpc') {
    if (config) throw invalidParameter('Network Configuration is not valid for the given networkMode of this task definition.');
    return undefined;
  }
  if (!config) throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  const subnets = config.subnets ?? [];
  const securityGroups = config.securityGroups ?? [];
  if (subnets.length === 0) throw invalidParameter('subnets can not be empty.');
  if (subnets.length > 16) throw invalidParameter('awsvpcConfiguration.subnets can have at most 16 subnets.');
  if (securityGroups.length > 5) throw invalidParameter('awsvpcConfiguration.securityGroups can have at most 5 security groups.');
  for (const [field, ids, prefix] of [['subnets', subnets, 'subnet-'], ['securityGroups', securityGroups, 'sg-']] as const) {
    const bad = ids.find((id) => !new RegExp(`^${prefix}[0-9a-zA-Z]{1,64}$`).test(id));
    if (bad !== undefined) throw invalidParameter(`awsvpcConfiguration.${field}: '${bad}' is not a valid ${prefix.slice(0, -1)} id (${prefix}…).`);
  }
  if (config.assignPublicIp === 'ENABLED' && !launch.fargate) throw invalidParameter('Assign public IP is not supported for this launch type.');
  return { subnets: [...subnets], securityGroups: [...securityGroups], assignPublicIp: config.assignPublicIp ?? 'DISABLED' };
}

/** The interface RunTask records for a new awsvpc task, before the agent has attached it. */
export function precreatedEni(config: Wire<AwsVpcConfiguration>): NonNullable<Wire<Task>['attachments']>[number] {
  return {
    id: randomUUID(),
    type: 'ElasticNetworkInterface',
    status: 'PRECREATED',
    details: [
      { name: 'subnetId', value: config.subnets![0]! },
      { name: 'networkInterfaceId', value: `eni-${randomBytes(9).toString('hex').slice(0, 17)}` },
    ],
  };
}

/** The task once its agent says the interface is attached: the address in the details and on every container. */
export function withEniAttached(task: Wire<Task>, change: TaskAttachmentChange): Wire<Task> {
  const eni = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
  if (!eni || !change.privateIPv4Address || task.lastStatus === 'STOPPED') return task;
  const ip = change.privateIPv4Address;
  const keep = (eni.details ?? []).filter((d) => d.name === 'subnetId' || d.name === 'networkInterfaceId');
  const attached = {
    ...eni,
    status: 'ATTACHED',
    details: [
      ...keep,
      ...(change.macAddress ? [{ name: 'macAddress', value: change.macAddress }] : []),
      { name: 'privateDnsName', value: `ip-${ip.replaceAll('.', '-')}.ec2.internal` },
      { name: 'privateIPv4Address', value: ip },
    ],
  };
  return {
    ...task,
    attachments: task.attachments!.map((a) => (a === eni ? attached : a)),
    containers: task.containers?.map((c) => ({ ...c, networkInterfaces: [{ attachmentId: eni.id!, privateIpv4Address: ip }] })),
  };
}

/** The task once it has stopped: its interface is gone. */
export function withEniDeleted(task: Wire<Task>): Wire<Task> {
  if (!task.attachments?.some((a) => a.type === 'ElasticNetworkInterface')) return task;
  return { ...task, attachments: task.attachments.map((a) => (a.type === 'ElasticNetworkInterface' ? { ...a, status: 'DELETED' } : a)) };
}

/** The order an attachment's status moves in (FAILED may come at any point and is final). */
const ATTACHMENT_ORDER = ['PRECREATED', 'CREATED', 'ATTACHING', 'ATTACHED', 'DETACHING', 'DETACHED', 'DELETED'] as const;

/**
 * The task with attachment `id` moved to `status` (SubmitAttachmentStateChanges), forward only: a status
 * behind the current one, or any after FAILED, leaves the task as it is. Undefined when the task has no
 * attachment `id`; a status ECS does not know is refused.
 */
export function withAttachmentStatus(task: Wire<Task>, id: string, status: string): Wire<Task> | undefined {
  const attachment = task.attachments?.find((a) => a.id === id);
  if (!attachment) return undefined;
  const rank = (s: string | undefined) => (ATTACHMENT_ORDER as readonly string[]).indexOf(s ?? '');
  if (status !== 'FAILED' && rank(status) < 0) {
    throw invalidParameter(`attachments.status: '${status}' is not an attachment status (${[...ATTACHMENT_ORDER, 'FAILED'].join(', ')}).`);
  }
  if (attachment.status === 'FAILED' || (status !== 'FAILED' && rank(status) <= rank(attachment.status))) return task;
  return { ...task, attachments: task.attachments!.map((a) => (a === attachment ? { ...a, status } : a)) };
}
