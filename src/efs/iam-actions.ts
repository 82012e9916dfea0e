/**
 * EFS's IAM declarations (Service Authorization Reference, "Actions, resources, and condition keys for Amazon
 * Elastic File System"): file system actions on `file-system/<id>`, access point actions on `access-point/<id>`,
 * CreateFileSystem with its request tags, the Describe lists on `*`. Mount target actions name their file system
 * when the request does (DeleteMountTarget and a Describe by mount target id are on `*`: the id alone does not say it).
 */
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';
import { accessPointArn, accessPointIdOf, fileSystemArn, fileSystemIdOf } from './ids.js';

type Input = Record<string, unknown>;

const onFileSystem = (action: string, field = 'FileSystemId'): ActionDeclaration<Input> => ({
  action,
  resources: (input, scope) => (typeof input[field] === 'string' ? [fileSystemArn(scope, fileSystemIdOf(input[field]))] : []),
});
const onResource = (action: string): ActionDeclaration<Input> => ({
  action,
  resources: (input, scope) => {
    const id = input.ResourceId;
    if (typeof id !== 'string') return [];
    return id.startsWith('fsap-') || id.includes(':access-point/') ? [accessPointArn(scope, accessPointIdOf(id))] : [fileSystemArn(scope, fileSystemIdOf(id))];
  },
  context: (input, _scope, into) => {
    if (Array.isArray(input.Tags)) addTagList(into, input.Tags as { Key: string; Value: string }[]);
    if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
  },
});

/** Every EFS action berth serves, by operation name. */
export function efsActions(): ActionTable {
  const efs = (a: string) => `elasticfilesystem:${a}`;
  return {
    CreateFileSystem: {
      action: efs('CreateFileSystem'),
      resources: () => [],
      context: (input: { Tags?: { Key: string; Value: string }[] }, _scope, into) => addTagList(into, input.Tags),
    },
    DescribeFileSystems: onFileSystem(efs('DescribeFileSystems')),
    UpdateFileSystem: onFileSystem(efs('UpdateFileSystem')),
    DeleteFileSystem: onFileSystem(efs('DeleteFileSystem')),
    CreateMountTarget: onFileSystem(efs('CreateMountTarget')),
    DescribeMountTargets: onFileSystem(efs('DescribeMountTargets')),
    DescribeMountTargetSecurityGroups: anyResource(efs('DescribeMountTargetSecurityGroups')),
    DeleteMountTarget: anyResource(efs('DeleteMountTarget')),
    CreateAccessPoint: {
      ...onFileSystem(efs('CreateAccessPoint')),
      context: (input: { Tags?: { Key: string; Value: string }[] }, _scope, into) => addTagList(into, input.Tags),
    },
    DescribeAccessPoints: onFileSystem(efs('DescribeAccessPoints')),
    DeleteAccessPoint: {
      action: efs('DeleteAccessPoint'),
      resources: (input: Input, scope) => (typeof input.AccessPointId === 'string' ? [accessPointArn(scope, accessPointIdOf(input.AccessPointId))] : []),
    },
    PutFileSystemPolicy: onFileSystem(efs('PutFileSystemPolicy')),
    DescribeFileSystemPolicy: onFileSystem(efs('DescribeFileSystemPolicy')),
    DeleteFileSystemPolicy: onFileSystem(efs('DeleteFileSystemPolicy')),
    PutLifecycleConfiguration: onFileSystem(efs('PutLifecycleConfiguration')),
    DescribeLifecycleConfiguration: onFileSystem(efs('DescribeLifecycleConfiguration')),
    CreateTags: onFileSystem(efs('CreateTags')),
    DeleteTags: onFileSystem(efs('DeleteTags')),
    DescribeTags: onFileSystem(efs('DescribeTags')),
    TagResource: onResource(efs('TagResource')),
    UntagResource: onResource(efs('UntagResource')),
    ListTagsForResource: onResource(efs('ListTagsForResource')),
  };
}
