/**
 * Amazon Resource Names for ECS resources, in the long format ECS uses today:
 * `arn:aws:ecs:<region>:<account>:<type>/<id…>`.
 */
export interface ArnScope {
  readonly region: string;
  readonly accountId: string;
}

export const ecsResourceTypes = [
  'cluster',
  'task-definition',
  'task',
  'service',
  'container-instance',
  'capacity-provider',
  'task-set',
  'container',
  'service-deployment',
  'service-revision',
  'attachment',
] as const;
export type EcsResourceType = (typeof ecsResourceTypes)[number];

export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly resourceType: string;
  /** Everything after `<type>/`. */
  readonly resource: string;
}

const ARN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):([a-zA-Z-]+)\/(.+)$/;

export function parseArn(arn: string): ParsedArn | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  const [, partition, service, region, accountId, resourceType, resource] = m as unknown as string[];
  return { partition: partition!, service: service!, region: region!, accountId: accountId!, resourceType: resourceType!, resource: resource! };
}

export function ecsArn(scope: ArnScope, type: EcsResourceType, resource: string): string {
  return `arn:aws:ecs:${scope.region}:${scope.accountId}:${type}/${resource}`;
}

export const clusterArn = (scope: ArnScope, name: string) => ecsArn(scope, 'cluster', name);
export const taskDefinitionArn = (scope: ArnScope, family: string, revision: number) =>
  ecsArn(scope, 'task-definition', `${family}:${revision}`);

/** An ECS ARN of `type` that belongs to this region and account, or undefined. */
export function parseOwnEcsArn(scope: ArnScope, arn: string, type: EcsResourceType): string | undefined {
  const parsed = parseArn(arn);
  if (!parsed || parsed.service !== 'ecs' || parsed.resourceType !== type) return undefined;
  if (parsed.region !== scope.region || parsed.accountId !== scope.accountId) return undefined;
  return parsed.resource;
}

/** IAM role references may be short names; ECS stores them as full ARNs. */
export function roleArn(scope: ArnScope, nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:iam::${scope.accountId}:role/${nameOrArn}`;
}

/**
 * The `arn` of a Describe* failure for a reference that matched nothing, as ECS words it: an ARN as given,
 * a bare name or id in the short form without the cluster (`service/<name>`, `task/<id>`,
 * `container-instance/<id>`), which is what ECS answers even where its own ARNs carry the cluster.
 */
export function missingArn(scope: ArnScope, type: EcsResourceType, ref: string): string {
  return ref.startsWith('arn:') ? ref : ecsArn(scope, type, ref);
}
