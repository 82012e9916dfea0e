import type { HostGroupRecord, HostInstanceRecord } from '../../state/records/host-groups.js';

/** Host group records for unit tests: an InService `berth.small` netns instance and a group of `web`, each with overrides. */

export const hostInstance = (id: string, extra: Partial<HostInstanceRecord> = {}): HostInstanceRecord => ({
  instanceId: id,
  availabilityZone: 'z-1a',
  lifecycleState: 'InService',
  healthStatus: 'Healthy',
  protectedFromScaleIn: false,
  launchConfigurationName: 'lc',
  instanceType: 'berth.small',
  imageId: 'netns',
  launchedAt: 0,
  provisioned: true,
  activityId: 'a',
  ...extra,
});

export const hostGroup = (desired: number, instances: readonly HostInstanceRecord[], extra: Partial<HostGroupRecord> = {}): HostGroupRecord => ({
  name: 'g',
  arn: 'arn',
  launchConfigurationName: 'lc',
  minSize: 0,
  maxSize: 10,
  desiredCapacity: desired,
  defaultCooldown: 300,
  availabilityZones: ['z-1a'],
  healthCheckType: 'EC2',
  healthCheckGracePeriod: 0,
  newInstancesProtectedFromScaleIn: false,
  tags: [],
  createdTime: 0,
  instances,
  ...extra,
});
