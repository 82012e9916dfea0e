/**
 * Amazon EFS (REST-JSON, SigV4 `elasticfilesystem`): file systems backed by GlusterFS volumes on berth's storage
 * hosts (docs/storage.md), mount targets per availability zone, access points, the file system policy, lifecycle
 * configuration (recorded) and tags. Replication, backup policies and account preferences are not served
 * (UnsupportedFeatureException from the codec).
 */
import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import type { IdentityDecision } from '../api/sts/env.js';
import { AccessPoints } from './access-points.js';
import { checkNewFileSystemPolicy } from './file-system-policy.js';
import { efsErrors } from './errors.js';
import { FileSystems, withTags, type EfsEnv } from './file-systems.js';
import { efsActions } from './iam-actions.js';
import { fileSystemIdOf } from './ids.js';
import { MountTargets } from './mount-targets.js';
import { enforcingFileSystemPolicies } from './policy-enforcement.js';
import { accessPointOut, fileSystemOut, mountTargetOut } from './wire.js';

/** A page of `items` from `marker` (an index this API handed out), `size` long. */
function pageOf<T>(items: readonly T[], marker: string | undefined, size: number): { items: T[]; next?: string } {
  const start = marker === undefined ? 0 : Number.parseInt(Buffer.from(marker, 'base64url').toString(), 10);
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw efsErrors.badRequest('The Marker (or NextToken) is not valid for this request.');
  const page = items.slice(start, start + size);
  return start + size < items.length ? { items: page, next: Buffer.from(String(start + size)).toString('base64url') } : { items: page };
}

export interface EfsServiceEnv extends EfsEnv {
  /** The identity policies' decision for a caller (the server's authorizer): PutFileSystemPolicy's lockout check. */
  readonly identityDecision?: IdentityDecision;
}

const PUT_POLICY = 'elasticfilesystem:PutFileSystemPolicy';

/** Served by the shared REST-JSON handler (api/protocol/rest-json.ts), chosen by the signing name. */
export function efsService(env: EfsServiceEnv): JsonService {
  const fileSystems = new FileSystems(env);
  const mountTargets = new MountTargets(fileSystems, env.now);
  const accessPoints = new AccessPoints(fileSystems);
  const owner = env.scope.accountId;
  const actions = efsActions();

  const describeTags = async (resourceId: string) => {
    if (resourceId.startsWith('fsap-') || resourceId.includes(':access-point/')) return (await accessPoints.get(resourceId)).tags;
    return (await fileSystems.get(undefined, resourceId)).tags;
  };
  const changeTags = async (resourceId: string, change: (tags: readonly { Key: string; Value: string }[]) => { Key: string; Value: string }[]) => {
    if (resourceId.startsWith('fsap-') || resourceId.includes(':access-point/')) return accessPoints.setTags(resourceId, change);
    await fileSystems.update(resourceId, (fs) => ({ ...fs, tags: change(fs.tags) }));
  };
  const without = (keys: readonly string[]) => (tags: readonly { Key: string; Value: string }[]) => tags.filter((t) => !keys.includes(t.Key));

  const operations: Record<string, Operation> = {
    async CreateFileSystem(input) {
      const fs = await fileSystems.create({
        creationToken: input.CreationToken,
        performanceMode: input.PerformanceMode,
        throughputMode: input.ThroughputMode,
        provisionedThroughputInMibps: input.ProvisionedThroughputInMibps,
        encrypted: input.Encrypted,
        kmsKeyId: input.KmsKeyId,
        availabilityZoneName: input.AvailabilityZoneName,
        backup: input.Backup,
        tags: input.Tags,
      });
      return fileSystemOut(fs, owner);
    },

    async DescribeFileSystems(input) {
      if (input.FileSystemId !== undefined && input.CreationToken !== undefined) {
        throw efsErrors.badRequest('Specify FileSystemId or CreationToken, not both.');
      }
      const all = input.FileSystemId !== undefined ? [await fileSystems.get(undefined, input.FileSystemId)] : await fileSystems.list(input.CreationToken);
      const page = pageOf(all, input.Marker, input.MaxItems ?? 100);
      return {
        ...(input.Marker !== undefined ? { Marker: input.Marker } : {}),
        FileSystems: page.items.map((fs) => fileSystemOut(fs, owner)),
        ...(page.next !== undefined ? { NextMarker: page.next } : {}),
      };
    },

    async UpdateFileSystem(input) {
      const fs = await fileSystems.update(input.FileSystemId, (fs) => {
        if (fs.lifeCycleState !== 'available') throw efsErrors.lifeCycle(fs.id, fs.lifeCycleState);
        const throughputMode = input.ThroughputMode ?? fs.throughputMode;
        const provisioned = input.ProvisionedThroughputInMibps ?? (throughputMode === 'provisioned' ? fs.provisionedThroughputInMibps : undefined);
        if (throughputMode === 'provisioned' && provisioned === undefined) {
          throw efsErrors.badRequest('ProvisionedThroughputInMibps is required when ThroughputMode is provisioned.');
        }
        if (throughputMode !== 'provisioned' && input.ProvisionedThroughputInMibps !== undefined) {
          throw efsErrors.badRequest('ProvisionedThroughputInMibps can only be set when ThroughputMode is provisioned.');
        }
        const { provisionedThroughputInMibps: _old, ...rest } = fs;
        return { ...rest, throughputMode, ...(provisioned !== undefined ? { provisionedThroughputInMibps: provisioned } : {}) };
      });
      return fileSystemOut(fs, owner);
    },

    async DeleteFileSystem(input) {
      await fileSystems.delete(input.FileSystemId);
      return {};
    },

    async CreateMountTarget(input) {
      const { mountTarget, fileSystem } = await mountTargets.create({
        fileSystemId: input.FileSystemId,
        subnetId: input.SubnetId,
        ipAddress: input.IpAddress,
        securityGroups: input.SecurityGroups,
      });
      return mountTargetOut(mountTarget, owner, fileSystem.lifeCycleState);
    },

    async DescribeMountTargets(input) {
      const given = [input.FileSystemId, input.MountTargetId, input.AccessPointId].filter((v) => v !== undefined).length;
      if (given !== 1) throw efsErrors.badRequest('Specify exactly one of FileSystemId, MountTargetId or AccessPointId.');
      let fileSystemId: string;
      let all;
      if (input.MountTargetId !== undefined) {
        const mt = await mountTargets.get(input.MountTargetId);
        fileSystemId = mt.fileSystemId;
        all = [mt];
      } else {
        fileSystemId = input.FileSystemId !== undefined ? (await fileSystems.get(undefined, input.FileSystemId)).id : (await accessPoints.get(input.AccessPointId)).fileSystemId;
        all = await mountTargets.ofFileSystem(fileSystemId);
      }
      const fs = await fileSystems.get(undefined, fileSystemId).catch(() => undefined);
      const page = pageOf(all, input.Marker, input.MaxItems ?? 100);
      return {
        ...(input.Marker !== undefined ? { Marker: input.Marker } : {}),
        MountTargets: page.items.map((mt) => mountTargetOut(mt, owner, fs?.lifeCycleState ?? 'deleted')),
        ...(page.next !== undefined ? { NextMarker: page.next } : {}),
      };
    },

    async DescribeMountTargetSecurityGroups(input) {
      return { SecurityGroups: (await mountTargets.get(input.MountTargetId)).securityGroups };
    },

    async DeleteMountTarget(input) {
      await mountTargets.delete(input.MountTargetId);
      return {};
    },

    async CreateAccessPoint(input) {
      const ap = await accessPoints.create({
        clientToken: input.ClientToken,
        fileSystemId: input.FileSystemId,
        tags: input.Tags,
        posixUser: input.PosixUser,
        rootDirectory: input.RootDirectory,
      });
      return accessPointOut(ap, owner);
    },

    async DescribeAccessPoints(input) {
      if (input.AccessPointId !== undefined && input.FileSystemId !== undefined) {
        throw efsErrors.badRequest('AccessPointId and FileSystemId are mutually exclusive.');
      }
      let all;
      if (input.AccessPointId !== undefined) all = [await accessPoints.get(input.AccessPointId)];
      else if (input.FileSystemId !== undefined) all = await accessPoints.list((await fileSystems.get(undefined, input.FileSystemId)).id);
      else all = await accessPoints.list();
      const page = pageOf(all, input.NextToken, input.MaxResults ?? 100);
      return { AccessPoints: page.items.map((ap) => accessPointOut(ap, owner)), ...(page.next !== undefined ? { NextToken: page.next } : {}) };
    },

    async DeleteAccessPoint(input) {
      await accessPoints.delete(input.AccessPointId);
      return {};
    },

    async PutFileSystemPolicy(input, call) {
      const { arn } = await fileSystems.get(undefined, input.FileSystemId);
      const identity = call.principal.type === 'Root' || !env.identityDecision ? undefined : await env.identityDecision(call.principal, PUT_POLICY, [arn]);
      checkNewFileSystemPolicy(input.Policy, { caller: call.principal, fileSystemArn: arn, identity, bypassLockoutCheck: input.BypassPolicyLockoutSafetyCheck === true });
      const fs = await fileSystems.update(input.FileSystemId, (fs) => ({ ...fs, policy: input.Policy }));
      return { FileSystemId: fs.id, Policy: input.Policy };
    },

    async DescribeFileSystemPolicy(input) {
      const fs = await fileSystems.get(undefined, input.FileSystemId);
      if (fs.policy === undefined) throw efsErrors.policyNotFound(fs.id);
      return { FileSystemId: fs.id, Policy: fs.policy };
    },

    async DeleteFileSystemPolicy(input) {
      await fileSystems.update(input.FileSystemId, ({ policy: _dropped, ...fs }) => fs);
      return {};
    },

    async PutLifecycleConfiguration(input) {
      const fs = await fileSystems.update(input.FileSystemId, (fs) => ({ ...fs, lifecyclePolicies: input.LifecyclePolicies }));
      return { LifecyclePolicies: fs.lifecyclePolicies };
    },

    async DescribeLifecycleConfiguration(input) {
      return { LifecyclePolicies: (await fileSystems.get(undefined, input.FileSystemId)).lifecyclePolicies };
    },

    async CreateTags(input) {
      await changeTags(fileSystemIdOf(input.FileSystemId), (tags) => withTags(tags, input.Tags));
      return {};
    },
    async DeleteTags(input) {
      await changeTags(fileSystemIdOf(input.FileSystemId), without(input.TagKeys));
      return {};
    },
    async DescribeTags(input) {
      const tags = await describeTags(fileSystemIdOf(input.FileSystemId));
      const page = pageOf(tags, input.Marker, input.MaxItems ?? 100);
      return { ...(input.Marker !== undefined ? { Marker: input.Marker } : {}), Tags: page.items, ...(page.next !== undefined ? { NextMarker: page.next } : {}) };
    },
    async TagResource(input) {
      await changeTags(input.ResourceId, (tags) => withTags(tags, input.Tags));
      return {};
    },
    async UntagResource(input) {
      await changeTags(input.ResourceId, without(input.TagKeys));
      return {};
    },
    async ListTagsForResource(input) {
      const page = pageOf(await describeTags(input.ResourceId), input.NextToken, input.MaxResults ?? 100);
      return { Tags: page.items, ...(page.next !== undefined ? { NextToken: page.next } : {}) };
    },
  };

  return {
    targetPrefix: 'MagnolioAPIService_v20150201',
    signingNames: ['elasticfilesystem'],
    model: loadServiceModel('elasticfilesystem-2015-02-01.json'),
    operations: enforcingFileSystemPolicies(operations, actions, fileSystems, env.scope),
    actions,
    inputErrorType: 'BadRequest',
  };
}
