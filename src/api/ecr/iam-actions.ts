/**
 * The ECR API's IAM declarations, after the Service Authorization Reference ("Actions, resources, and condition
 * keys for Amazon Elastic Container Registry"): every repository action is on `repository/<name>` (in the
 * request's `registryId`, else this account); GetAuthorizationToken has no resource (`*`); DescribeRepositories
 * without names lists every repository (`*`); tagging is on the ARN named, with the request's tags.
 */
import type { ArnScope } from '../../model/arn.js';
import { repositoryArnOf } from '../../model/registry/repository-arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../authz/declarations.js';

interface RepositoryRequest {
  readonly repositoryName: string;
  readonly registryId?: string;
}

const onRepository = (action: string): ActionDeclaration<RepositoryRequest> => ({
  action,
  resources: (input, scope: ArnScope) => [repositoryArnOf(scope, input.repositoryName, input.registryId)],
});

/** Every ECR action berth serves, by operation name. */
export const ecrActions: ActionTable = {
  GetAuthorizationToken: anyResource('ecr:GetAuthorizationToken'),
  CreateRepository: {
    action: 'ecr:CreateRepository',
    resources: (input: RepositoryRequest, scope) => [repositoryArnOf(scope, input.repositoryName, input.registryId)],
    context: (input: { tags?: { Key?: string; Value?: string }[] }, _scope, into) => addTagList(into, input.tags),
  },
  DescribeRepositories: {
    action: 'ecr:DescribeRepositories',
    resources: (input: { repositoryNames?: string[]; registryId?: string }, scope) =>
      (input.repositoryNames ?? []).map((name) => repositoryArnOf(scope, name, input.registryId)),
  },
  DeleteRepository: onRepository('ecr:DeleteRepository'),
  PutImageTagMutability: onRepository('ecr:PutImageTagMutability'),
  PutImageScanningConfiguration: onRepository('ecr:PutImageScanningConfiguration'),
  ListImages: onRepository('ecr:ListImages'),
  DescribeImages: onRepository('ecr:DescribeImages'),
  BatchGetImage: onRepository('ecr:BatchGetImage'),
  BatchDeleteImage: onRepository('ecr:BatchDeleteImage'),
  PutImage: onRepository('ecr:PutImage'),
  BatchCheckLayerAvailability: onRepository('ecr:BatchCheckLayerAvailability'),
  GetDownloadUrlForLayer: onRepository('ecr:GetDownloadUrlForLayer'),
  InitiateLayerUpload: onRepository('ecr:InitiateLayerUpload'),
  UploadLayerPart: onRepository('ecr:UploadLayerPart'),
  CompleteLayerUpload: onRepository('ecr:CompleteLayerUpload'),
  PutLifecyclePolicy: onRepository('ecr:PutLifecyclePolicy'),
  GetLifecyclePolicy: onRepository('ecr:GetLifecyclePolicy'),
  DeleteLifecyclePolicy: onRepository('ecr:DeleteLifecyclePolicy'),
  StartLifecyclePolicyPreview: onRepository('ecr:StartLifecyclePolicyPreview'),
  GetLifecyclePolicyPreview: onRepository('ecr:GetLifecyclePolicyPreview'),
  ListTagsForResource: { action: 'ecr:ListTagsForResource', resources: (input: { resourceArn: string }) => [input.resourceArn] },
  TagResource: {
    action: 'ecr:TagResource',
    resources: (input: { resourceArn: string }) => [input.resourceArn],
    context: (input: { tags?: { Key?: string; Value?: string }[] }, _scope, into) => addTagList(into, input.tags),
  },
  UntagResource: {
    action: 'ecr:UntagResource',
    resources: (input: { resourceArn: string }) => [input.resourceArn],
    context: (input: { tagKeys?: string[] }, _scope, into) => addTagKeys(into, input.tagKeys),
  },
};
