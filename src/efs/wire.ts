import type { AccessPointRecord, FileSystemRecord, MountTargetRecord } from '../state/records/efs.js';

/** Records → EFS's descriptions (FileSystemDescription, MountTargetDescription, AccessPointDescription). */
export function fileSystemOut(fs: FileSystemRecord, ownerId: string, sizeInBytes = 0): object {
  const name = fs.tags.find((t) => t.Key === 'Name')?.Value;
  return {
    OwnerId: ownerId,
    CreationToken: fs.creationToken,
    FileSystemId: fs.id,
    FileSystemArn: fs.arn,
    CreationTime: Math.floor(fs.createdAt / 1000),
    LifeCycleState: fs.lifeCycleState,
    ...(name !== undefined ? { Name: name } : {}),
    NumberOfMountTargets: fs.mountTargetCount,
    SizeInBytes: { Value: sizeInBytes, ValueInStandard: sizeInBytes, ValueInIA: 0, ValueInArchive: 0 },
    PerformanceMode: fs.performanceMode,
    Encrypted: fs.encrypted,
    ...(fs.kmsKeyId !== undefined ? { KmsKeyId: fs.kmsKeyId } : {}),
    ThroughputMode: fs.throughputMode,
    ...(fs.provisionedThroughputInMibps !== undefined ? { ProvisionedThroughputInMibps: fs.provisionedThroughputInMibps } : {}),
    ...(fs.availabilityZoneName !== undefined ? { AvailabilityZoneName: fs.availabilityZoneName, AvailabilityZoneId: zoneIdOf(fs.availabilityZoneName) } : {}),
    Tags: fs.tags,
    FileSystemProtection: { ReplicationOverwriteProtection: 'ENABLED' },
  };
}

export function mountTargetOut(mt: MountTargetRecord, ownerId: string, fileSystemState: string): object {
  return {
    OwnerId: ownerId,
    MountTargetId: mt.id,
    FileSystemId: mt.fileSystemId,
    SubnetId: mt.subnetId,
    // A mount target is usable as soon as its file system is.
    LifeCycleState: fileSystemState === 'available' ? 'available' : 'creating',
    IpAddress: mt.ipAddress,
    NetworkInterfaceId: `eni-${mt.id.slice(5)}`,
    AvailabilityZoneId: zoneIdOf(mt.availabilityZone),
    AvailabilityZoneName: mt.availabilityZone,
    VpcId: 'vpc-berth',
  };
}

export function accessPointOut(ap: AccessPointRecord, ownerId: string): object {
  return {
    ClientToken: ap.clientToken,
    ...(ap.name !== undefined ? { Name: ap.name } : {}),
    Tags: ap.tags,
    AccessPointId: ap.id,
    AccessPointArn: ap.arn,
    FileSystemId: ap.fileSystemId,
    ...(ap.posixUser ? { PosixUser: ap.posixUser } : {}),
    RootDirectory: ap.rootDirectory,
    OwnerId: ownerId,
    LifeCycleState: 'available',
  };
}

/** berth's zones have no separate ids: `use1-az1`-like ids are made from the name. */
const zoneIdOf = (zone: string) => `berth-${zone}`;
