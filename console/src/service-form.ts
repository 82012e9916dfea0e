import type { CreateServiceCommandInput } from '@aws-sdk/client-ecs';

/**
 * The create-service form's pure parts: its fields as CreateService's input, and which field an API refusal is
 * about (so the page marks that field, as the task definition editor does with json-fields.ts). Unit-tested.
 */

export interface ServiceFormValues {
  readonly serviceName: string;
  readonly taskDefinition: string;
  readonly desiredCount: string;
  /** '' is the cluster's default capacity provider strategy (no launch type sent). */
  readonly launchType: '' | 'EC2' | 'FARGATE' | 'EXTERNAL';
  /** Comma- or space-separated; given, the service gets an awsvpc network configuration. */
  readonly subnets: string;
  readonly securityGroups: string;
  readonly assignPublicIp: boolean;
  /** '' is no load balancer. */
  readonly targetGroupArn: string;
  readonly containerName: string;
  readonly containerPort: string;
  readonly circuitBreaker: boolean;
  readonly enableExecuteCommand: boolean;
}

export type ServiceFormField = keyof ServiceFormValues;

const list = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/** The form as CreateService's input: what was left empty is not sent, so the API's own defaults and checks apply. */
export function createServiceInput(cluster: string, v: ServiceFormValues): CreateServiceCommandInput {
  const subnets = list(v.subnets);
  const securityGroups = list(v.securityGroups);
  return {
    cluster,
    serviceName: v.serviceName.trim(),
    taskDefinition: v.taskDefinition,
    // A number the API checks: a fraction or a negative count is refused by CreateService, not by the form.
    desiredCount: Number(v.desiredCount),
    ...(v.launchType ? { launchType: v.launchType } : {}),
    ...(subnets.length || securityGroups.length
      ? { networkConfiguration: { awsvpcConfiguration: { subnets, ...(securityGroups.length ? { securityGroups } : {}), assignPublicIp: v.assignPublicIp ? 'ENABLED' : 'DISABLED' } } }
      : {}),
    ...(v.targetGroupArn
      ? { loadBalancers: [{ targetGroupArn: v.targetGroupArn, containerName: v.containerName.trim(), ...(v.containerPort.trim() ? { containerPort: Number(v.containerPort) } : {}) }] }
      : {}),
    ...(v.circuitBreaker ? { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } } : {}),
    ...(v.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
  };
}

/** Words of the API's messages and the field each names. */
const FIELD_WORDS: readonly [RegExp, ServiceFormField][] = [
  [/targetGroupArn|target group/i, 'targetGroupArn'],
  [/containerPort|container port/i, 'containerPort'],
  [/containerName|container name/i, 'containerName'],
  [/subnet/i, 'subnets'],
  [/securityGroup|security group/i, 'securityGroups'],
  [/assign ?public ?ip/i, 'assignPublicIp'],
  [/launch.?type|capacity provider/i, 'launchType'],
  [/desiredCount|desired count/i, 'desiredCount'],
  [/task ?definition/i, 'taskDefinition'],
  [/serviceName|service name|creation of service was not idempotent|service .*already exists/i, 'serviceName'],
];

/**
 * The field an API refusal is about: the one named first in its message (`loadBalancers.containerPort: … with a
 * target group` is about the port, named before the group); undefined when it names none.
 */
export function fieldOfServiceError(message: string): ServiceFormField | undefined {
  let first: { at: number; field: ServiceFormField } | undefined;
  for (const [words, field] of FIELD_WORDS) {
    const at = message.search(words);
    if (at !== -1 && (!first || at < first.at)) first = { at, field };
  }
  return first?.field;
}
