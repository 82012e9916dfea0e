import { recordParser } from './codec.js';

/**
 * Host groups' records (keys in state/host-group-keys.ts). A group record holds its instances, so every decision
 * about capacity (launch, terminate, replace, protect) is one compare-and-swap on one key; a launch configuration
 * lists the groups using it, so DeleteLaunchConfiguration's ResourceInUse check and a group's create or delete
 * meet on that record. Timestamps are epoch milliseconds.
 */

export interface LaunchConfigurationRecord {
  readonly name: string;
  readonly arn: string;
  /** The provisioner: `netns` or `command:NAME`. */
  readonly imageId: string;
  readonly instanceType: string;
  /** As given (base64 or plain text); the ecs.config lines are read from it at each launch. */
  readonly userData?: string;
  readonly createdTime: number;
  /** Names of the groups launching with it. */
  readonly groups: readonly string[];
}

export interface HostGroupTag {
  readonly key: string;
  readonly value: string;
  readonly propagateAtLaunch: boolean;
}

/**
 * An instance's lifecycle, as Auto Scaling names the states berth uses:
 *
 *   Pending ──registered──▶ InService ──scale in / terminate──▶ Terminating ──provisioner done──▶ (removed)
 *      │                          │                                  ▲   ▲
 *      │                          └─(group has a termination hook)─▶ Terminating:Wait ─drained / timed out─┘
 *      └──── provisioner failed / no registration in time ──────────┘
 *
 * Terminating:Wait is Auto Scaling's state of an instance held by a termination lifecycle hook; berth's only hook
 * is the one managed draining puts on a capacity provider's group (managed-scaling/draining.ts).
 */
export type HostLifecycleState = 'Pending' | 'InService' | 'Terminating:Wait' | 'Terminating';

/** Being taken out of service: waiting on the termination hook or being terminated. */
export const isTerminating = (state: HostLifecycleState) => state === 'Terminating' || state === 'Terminating:Wait';

/**
 * A termination lifecycle hook: an InService instance taken out of service waits in Terminating:Wait until the
 * hook's owner lets it go, or `heartbeatTimeoutS` has passed (then it is terminated anyway, Auto Scaling's
 * DefaultResult CONTINUE). ECS's managed draining puts one named `ecs-managed-draining-termination-hook`.
 */
export interface TerminationHook {
  readonly name: string;
  readonly heartbeatTimeoutS: number;
}

export interface HostInstanceRecord {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly lifecycleState: HostLifecycleState;
  readonly healthStatus: 'Healthy' | 'Unhealthy';
  readonly protectedFromScaleIn: boolean;
  readonly launchConfigurationName: string;
  readonly instanceType: string;
  readonly imageId: string;
  /** When it was recorded (before the provisioner was asked): the registration timeout runs from here. */
  readonly launchedAt: number;
  /** The provisioner's create returned: a leader taking over re-asks only for instances without it. */
  readonly provisioned: boolean;
  /** The activity of its launch (or of its termination, once Terminating). */
  readonly activityId: string;
  /** When it entered Terminating:Wait (its hook's timeout runs from here). */
  readonly waitingSince?: number;
}

export interface HostGroupRecord {
  readonly name: string;
  readonly arn: string;
  readonly launchConfigurationName: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly defaultCooldown: number;
  readonly availabilityZones: readonly string[];
  readonly healthCheckType: string;
  readonly healthCheckGracePeriod: number;
  readonly newInstancesProtectedFromScaleIn: boolean;
  readonly tags: readonly HostGroupTag[];
  readonly createdTime: number;
  /** Set by DeleteAutoScalingGroup: every instance is terminated, then the record goes. */
  readonly deleting?: boolean;
  /** Set while a capacity provider with managed draining uses the group. */
  readonly terminationHook?: TerminationHook;
  readonly instances: readonly HostInstanceRecord[];
}

export type ActivityStatus = 'InProgress' | 'Successful' | 'Failed' | 'Cancelled';

export interface ScalingActivityRecord {
  readonly id: string;
  readonly groupName: string;
  readonly groupArn: string;
  readonly description: string;
  readonly cause: string;
  readonly startTime: number;
  readonly endTime?: number;
  readonly statusCode: ActivityStatus;
  readonly statusMessage?: string;
  readonly progress: number;
  /** The instance it launches or terminates, to finish it when that is done. */
  readonly instanceId?: string;
}

export const parseLaunchConfiguration = recordParser<LaunchConfigurationRecord>('launch configuration', {
  name: 'string',
  arn: 'string',
  imageId: 'string',
  instanceType: 'string',
  createdTime: 'number',
  groups: 'array',
});

export const parseHostGroup = recordParser<HostGroupRecord>('host group', {
  name: 'string',
  arn: 'string',
  launchConfigurationName: 'string',
  minSize: 'number',
  maxSize: 'number',
  desiredCapacity: 'number',
  availabilityZones: 'array',
  tags: 'array',
  instances: 'array',
});

export const parseScalingActivity = recordParser<ScalingActivityRecord>('scaling activity', {
  id: 'string',
  groupName: 'string',
  cause: 'string',
  startTime: 'number',
  statusCode: 'string',
});
