import type { Attribute } from '@aws-sdk/client-ecs';
import { invalidParameter } from './errors.js';
import type { Capacity } from './container-instance.js';

/** The members of an EC2 instance identity document that ECS reads at RegisterContainerInstance. */
export interface IdentityDocument {
  readonly instanceId?: string;
  readonly availabilityZone?: string;
  readonly instanceType?: string;
  readonly imageId?: string;
  readonly architecture?: string;
}

const stringMembers = ['instanceId', 'availabilityZone', 'instanceType', 'imageId', 'architecture'] as const;

/** The identity document a registration carries (an empty one when absent). */
export function parseIdentityDocument(doc: string | undefined): IdentityDocument {
  if (!doc) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidParameter('instanceIdentityDocument must be a JSON object.');
  }
  const out: Record<string, string> = {};
  for (const name of stringMembers) {
    // Own members only: a document is client input, and `constructor` is not a member of it.
    if (!Object.hasOwn(parsed, name)) continue;
    const value = (parsed as Record<string, unknown>)[name];
    if (typeof value !== 'string') throw invalidParameter(`instanceIdentityDocument.${name} must be a string.`);
    out[name] = value;
  }
  return out;
}

/**
 * The attributes ECS derives from the identity document: `ecs.ami-id`, `ecs.availability-zone`,
 * `ecs.instance-type` from its members, and `ecs.os-type` (every berth host runs Linux). Only for a
 * document that was given: an instance registered without one has no EC2 facts to derive.
 */
export function identityAttributes(doc: IdentityDocument, given: boolean): Attribute[] {
  if (!given) return [];
  const derived: [string, string | undefined][] = [
    ['ecs.ami-id', doc.imageId],
    ['ecs.availability-zone', doc.availabilityZone],
    ['ecs.instance-type', doc.instanceType],
    ['ecs.os-type', 'linux'],
  ];
  return derived.filter((d): d is [string, string] => d[1] !== undefined && d[1] !== '').map(([name, value]) => ({ name, value }));
}

/** vCPUs and GiB of memory of common EC2 instance types (AWS's published sizes). */
const instanceTypes = new Map<string, readonly [vcpus: number, gib: number]>([
  ['t3.nano', [2, 0.5]],
  ['t3.micro', [2, 1]],
  ['t3.small', [2, 2]],
  ['t3.medium', [2, 4]],
  ['t3.large', [2, 8]],
  ['t3.xlarge', [4, 16]],
  ['t3.2xlarge', [8, 32]],
  ['m5.large', [2, 8]],
  ['m5.xlarge', [4, 16]],
  ['m5.2xlarge', [8, 32]],
  ['m5.4xlarge', [16, 64]],
  ['c5.large', [2, 4]],
  ['c5.xlarge', [4, 8]],
  ['c5.2xlarge', [8, 16]],
  ['c5.4xlarge', [16, 32]],
  ['r5.large', [2, 16]],
  ['r5.xlarge', [4, 32]],
  ['r5.2xlarge', [8, 64]],
]);

/**
 * Resources for an instance registered without `totalResources` (optional in the model): ECS then takes
 * them from the instance's type, 1024 CPU units per vCPU and its memory in MiB. A type berth does not know
 * gives none (CPU and MEMORY 0, so nothing is placed there) until a later registration reports them.
 */
export function capacityOfInstanceType(instanceType: string | undefined): Capacity {
  const size = instanceType === undefined ? undefined : instanceTypes.get(instanceType);
  return { cpu: size ? size[0] * 1024 : 0, memory: size ? size[1] * 1024 : 0, ports: [], portsUdp: [] };
}
