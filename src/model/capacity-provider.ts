import type { AutoScalingGroupProvider, AutoScalingGroupProviderUpdate, CapacityProvider, ManagedScaling } from '@aws-sdk/client-ecs';
import { builtInCapacityProviders } from './cluster.js';
import { clientError, invalidParameter } from './errors.js';
import type { Tag } from './tags.js';
import type { Wire } from './wire.js';

/**
 * Capacity providers of Auto Scaling groups (berth's host groups), as stored (state/records/capacity-providers.ts,
 * keys in state/capacity-provider-keys.ts).
 * The record keeps everything of ECS's `autoScalingGroupProvider` with its defaults filled in, so DescribeCapacityProviders
 * answers from it alone and the managed-scaling controller reads its settings from it.
 *
 * Lifecycle (ECS's `status` and `updateStatus`):
 *
 *   Create ──▶ ACTIVE (updateStatus absent) ──UpdateCapacityProvider──▶ ACTIVE, UPDATE_COMPLETE
 *                │
 *                ├──DeleteCapacityProvider──────────────▶ INACTIVE, DELETE_COMPLETE ──after INACTIVE_RETENTION_MS──▶ (removed)
 *                └──its Auto Scaling group deleted──────▶ INACTIVE, DELETE_COMPLETE + updateStatusReason ──▶ (removed)
 *
 * ECS keeps deleted providers discoverable "for a period of time" without saying how long (and warns not to rely on
 * it); berth shows them for an hour, then the leader removes the record.
 */

/** How long a deleted (INACTIVE) provider stays describable before its record is removed. */
export const INACTIVE_RETENTION_MS = 60 * 60_000;

/** A deleted provider past its retention: no longer shown, and its record may go. */
export const isExpiredProvider = (r: { status: string; deletedAt?: number }, nowMs: number): boolean =>
  r.status === 'INACTIVE' && nowMs - (r.deletedAt ?? 0) >= INACTIVE_RETENTION_MS;

/** ECS's ManagedScalingStatus, ManagedTerminationProtection and ManagedDraining: each ENABLED or DISABLED. */
export const onOffValues = ['ENABLED', 'DISABLED'] as const;
export type OnOff = (typeof onOffValues)[number];
export type ManagedScalingStatus = OnOff;

export interface ManagedScalingRecord {
  readonly status: ManagedScalingStatus;
  /** Percent of the group's capacity to keep used, 1–100. */
  readonly targetCapacity: number;
  readonly minimumScalingStepSize: number;
  readonly maximumScalingStepSize: number;
  /** Seconds a new instance is given before its metrics count. */
  readonly instanceWarmupPeriod: number;
}

export interface AutoScalingGroupProviderRecord {
  readonly autoScalingGroupArn: string;
  /** The host group's name, read from the ARN at creation (the key of its record and of `byGroup`). */
  readonly groupName: string;
  readonly managedScaling: ManagedScalingRecord;
  readonly managedTerminationProtection: OnOff;
  readonly managedDraining: OnOff;
}

export const capacityProviderUpdateStatuses = [
  'CREATE_IN_PROGRESS',
  'CREATE_COMPLETE',
  'CREATE_FAILED',
  'DELETE_IN_PROGRESS',
  'DELETE_COMPLETE',
  'DELETE_FAILED',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE',
  'UPDATE_FAILED',
] as const;
export type CapacityProviderUpdateStatus = (typeof capacityProviderUpdateStatuses)[number];

export interface CapacityProviderRecord {
  readonly name: string;
  readonly capacityProviderArn: string;
  /** ECS's statuses; berth's changes are one transaction each, so only ACTIVE and INACTIVE are ever stored. */
  readonly status: 'PROVISIONING' | 'ACTIVE' | 'DEPROVISIONING' | 'INACTIVE';
  readonly autoScalingGroupProvider: AutoScalingGroupProviderRecord;
  readonly updateStatus?: CapacityProviderUpdateStatus;
  readonly updateStatusReason?: string;
  readonly tags: readonly Tag[];
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds of DeleteCapacityProvider (status INACTIVE). */
  readonly deletedAt?: number;
}

/** ECS's defaults for what CreateCapacityProvider leaves out (managed draining is on, termination protection off). */
export const autoScalingGroupProviderDefaults = { managedTerminationProtection: 'DISABLED', managedDraining: 'ENABLED' } as const;

/** ECS's defaults for the managed scaling settings CreateCapacityProvider leaves out. */
export const managedScalingDefaults = {
  status: 'DISABLED',
  targetCapacity: 100,
  minimumScalingStepSize: 1,
  maximumScalingStepSize: 10_000,
  instanceWarmupPeriod: 300,
} as const satisfies ManagedScalingRecord;

/**
 * CreateCapacityProvider's and UpdateCapacityProvider's rules that need nothing stored (names, ranges, enums,
 * defaults), and a record's wire shape. Pure; the checks against host groups and clusters are the API's.
 */

export const isBuiltInCapacityProvider = (name: string) => (builtInCapacityProviders as readonly string[]).includes(name);

const NAME = /^[a-zA-Z0-9_-]{1,255}$/;

export function checkProviderName(name: string | undefined): string {
  if (!name) throw invalidParameter("Missing required parameter 'name'.");
  if (/^(aws|ecs|fargate)/i.test(name)) {
    throw invalidParameter(`The capacity provider name '${name}' is invalid: it can't be prefixed with "aws", "ecs", or "fargate".`);
  }
  if (!NAME.test(name)) {
    throw invalidParameter(
      `The capacity provider name '${name}' is invalid. Up to 255 characters are allowed: letters (upper and lowercase), numbers, underscores, and hyphens.`,
    );
  }
  return name;
}

function onOff(value: string | undefined, field: string, fallback: OnOff): OnOff {
  if (value === undefined) return fallback;
  if (value !== 'ENABLED' && value !== 'DISABLED') throw invalidParameter(`${field}: '${value}' is not one of ENABLED, DISABLED.`);
  return value;
}

function inRange(value: number | undefined, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw invalidParameter(`${field} must be an integer between ${min} and ${max}.`);
  return value;
}

/** Managed scaling settings with ECS's defaults for what is left out (of `given`, then of `current`). */
export function managedScalingOf(given: ManagedScaling | undefined, current: ManagedScalingRecord = managedScalingDefaults): ManagedScalingRecord {
  const f = 'autoScalingGroupProvider.managedScaling';
  const scaling: ManagedScalingRecord = {
    status: onOff(given?.status, `${f}.status`, current.status),
    targetCapacity: inRange(given?.targetCapacity, `${f}.targetCapacity`, 1, 100, current.targetCapacity),
    minimumScalingStepSize: inRange(given?.minimumScalingStepSize, `${f}.minimumScalingStepSize`, 1, 10_000, current.minimumScalingStepSize),
    maximumScalingStepSize: inRange(given?.maximumScalingStepSize, `${f}.maximumScalingStepSize`, 1, 10_000, current.maximumScalingStepSize),
    instanceWarmupPeriod: inRange(given?.instanceWarmupPeriod, `${f}.instanceWarmupPeriod`, 0, 10_000, current.instanceWarmupPeriod),
  };
  if (scaling.minimumScalingStepSize > scaling.maximumScalingStepSize) {
    throw invalidParameter(`${f}.minimumScalingStepSize (${scaling.minimumScalingStepSize}) can't be greater than maximumScalingStepSize (${scaling.maximumScalingStepSize}).`);
  }
  return scaling;
}

/** What the group must allow for the provider's settings: managed termination protection needs instances protected from scale-in. */
export function checkAgainstGroup(provider: Pick<AutoScalingGroupProviderRecord, 'managedTerminationProtection'>, group: { newInstancesProtectedFromScaleIn: boolean }) {
  if (provider.managedTerminationProtection === 'ENABLED' && !group.newInstancesProtectedFromScaleIn) {
    throw clientError(
      'The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, the Auto Scaling group must have instance protection from scale in enabled.',
    );
  }
}

/** CreateCapacityProvider's settings, defaults filled in; the group (name and ARN) as found by the caller. */
export function newAutoScalingGroupProvider(given: AutoScalingGroupProvider, group: { name: string; arn: string }): AutoScalingGroupProviderRecord {
  const f = 'autoScalingGroupProvider';
  return {
    autoScalingGroupArn: group.arn,
    groupName: group.name,
    managedScaling: managedScalingOf(given.managedScaling),
    managedTerminationProtection: onOff(given.managedTerminationProtection, `${f}.managedTerminationProtection`, autoScalingGroupProviderDefaults.managedTerminationProtection),
    managedDraining: onOff(given.managedDraining, `${f}.managedDraining`, autoScalingGroupProviderDefaults.managedDraining),
  };
}

/** UpdateCapacityProvider: what is given replaces, what is left out stays. */
export function updatedAutoScalingGroupProvider(current: AutoScalingGroupProviderRecord, given: AutoScalingGroupProviderUpdate): AutoScalingGroupProviderRecord {
  const f = 'autoScalingGroupProvider';
  return {
    ...current,
    managedScaling: managedScalingOf(given.managedScaling, current.managedScaling),
    managedTerminationProtection: onOff(given.managedTerminationProtection, `${f}.managedTerminationProtection`, current.managedTerminationProtection),
    managedDraining: onOff(given.managedDraining, `${f}.managedDraining`, current.managedDraining),
  };
}

/** The group's name from what CreateCapacityProvider was given: an Auto Scaling group ARN or a name. */
export function groupNameOf(ref: string): string | undefined {
  if (!ref.startsWith('arn:')) return ref;
  const parts = ref.split(':');
  if (parts[2] !== 'autoscaling' || parts[5] !== 'autoScalingGroup') return undefined;
  const resource = parts.slice(7).join(':');
  return resource.startsWith('autoScalingGroupName/') ? resource.slice('autoScalingGroupName/'.length) : undefined;
}

/** As DescribeCapacityProviders (and Create/Update/Delete) show it; tags only when asked for. */
export function capacityProviderWire(record: CapacityProviderRecord, withTags: boolean): Wire<CapacityProvider> {
  const { groupName: _name, ...asg } = record.autoScalingGroupProvider;
  return {
    capacityProviderArn: record.capacityProviderArn,
    name: record.name,
    status: record.status,
    autoScalingGroupProvider: asg,
    ...(record.updateStatus ? { updateStatus: record.updateStatus } : {}),
    ...(record.updateStatusReason ? { updateStatusReason: record.updateStatusReason } : {}),
    ...(withTags ? { tags: [...record.tags] } : {}),
  };
}
