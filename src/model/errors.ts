import { ecsMessage } from './ecs-messages.js';

/**
 * Every error the API can answer with, named as AWS names it. Domain code throws {@link ServiceError} with
 * one of these names; `api/errors.ts` alone decides the HTTP status.
 */
export const errorTypes = [
  // Protocol and authentication
  'SerializationException',
  'UnknownOperationException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'AccessDeniedException',
  'RequestEntityTooLargeException',
  'ThrottlingException',
  'ExpiredTokenException',
  // Amazon ECS
  'AttributeLimitExceededException',
  'ClientException',
  'ClusterContainsContainerInstancesException',
  'ClusterContainsServicesException',
  'ClusterContainsTasksException',
  'ClusterNotFoundException',
  'ConflictException',
  'InvalidParameterException',
  'LimitExceededException',
  'MissingVersionException',
  'NamespaceNotFoundException',
  'NoUpdateAvailableException',
  'PlatformTaskDefinitionIncompatibilityException',
  'PlatformUnknownException',
  'ResourceInUseException',
  'ResourceNotFoundException',
  'ServerException',
  'ServiceDeploymentNotFoundException',
  'ServiceNotActiveException',
  'ServiceNotFoundException',
  'TargetNotConnectedException',
  'TargetNotFoundException',
  'TaskSetNotFoundException',
  'UnsupportedFeatureException',
  'UpdateInProgressException',
  // Amazon ECR
  'ImageAlreadyExistsException',
  'ImageDigestDoesNotMatchException',
  'ImageNotFoundException',
  'ImageTagAlreadyExistsException',
  'InvalidTagParameterException',
  'LayersNotFoundException',
  'LifecyclePolicyNotFoundException',
  'LifecyclePolicyPreviewNotFoundException',
  'ReferencedImagesNotFoundException',
  'RepositoryAlreadyExistsException',
  'RepositoryNotEmptyException',
  'RepositoryNotFoundException',
  'TooManyTagsException',
  'ValidationException',
  // Amazon CloudWatch Logs (it shares InvalidParameterException, ResourceNotFoundException, LimitExceededException)
  'ResourceAlreadyExistsException',
  // AWS Secrets Manager (it shares InvalidParameterException, ResourceNotFoundException, LimitExceededException)
  'InvalidRequestException',
  'ResourceExistsException',
  'InvalidNextTokenException',
  'DecryptionFailure',
  // AWS Systems Manager Parameter Store (it shares ValidationException)
  'ParameterNotFound',
  'ParameterAlreadyExists',
  'ParameterLimitExceeded',
  'ParameterMaxVersionLimitExceeded',
  'ParameterPatternMismatchException',
  'ParameterVersionNotFound',
  'ParameterVersionLabelLimitExceeded',
  'HierarchyLevelLimitExceededException',
  'HierarchyTypeMismatchException',
  'InvalidAllowedPatternException',
  'InvalidKeyId',
  'InvalidFilterKey',
  'InvalidFilterOption',
  'InvalidFilterValue',
  'InvalidNextToken',
  'InvalidResourceId',
  'InvalidResourceType',
  'UnsupportedParameterType',
  'TooManyTagsError',
  // AWS IAM and STS (Query protocol: these are the wire codes themselves)
  'AccessDenied',
  'DeleteConflict',
  'EntityAlreadyExists',
  'InvalidAction',
  'LimitExceeded',
  'MalformedPolicyDocument',
  'NoSuchEntity',
  'PackedPolicyTooLarge',
  'ValidationError',
  // EC2 Auto Scaling (host groups; Query protocol wire codes; it shares LimitExceeded, ResourceInUse, InvalidNextToken, ValidationError)
  'AlreadyExists',
  'ScalingActivityInProgress',
  // Elastic Load Balancing v2 (Query protocol: the wire codes themselves)
  'CertificateNotFound',
  'DuplicateListener',
  'DuplicateLoadBalancerName',
  'DuplicateTagKeys',
  'DuplicateTargetGroupName',
  'IncompatibleProtocols',
  'InvalidConfigurationRequest',
  'InvalidLoadBalancerAction',
  'InvalidSecurityGroup',
  'InvalidTarget',
  'ListenerNotFound',
  'LoadBalancerNotFound',
  'OperationNotPermitted',
  'PriorityInUse',
  'ResourceInUse',
  'RuleNotFound',
  'SubnetNotFound',
  'TargetGroupAssociationLimit',
  'TargetGroupNotFound',
  'TooManyActions',
  'TooManyListeners',
  'TooManyLoadBalancers',
  'TooManyRules',
  'TooManyTags',
  'TooManyTargetGroups',
  'TooManyTargets',
  'UnsupportedProtocol',
  // AWS Cloud Map (it shares ResourceInUse, ResourceNotFoundException, TooManyTagsException)
  'CustomHealthNotFound',
  'DuplicateRequest',
  'InstanceNotFound',
  'InvalidInput',
  'NamespaceAlreadyExists',
  'NamespaceNotFound',
  'OperationNotFound',
  'RequestLimitExceeded',
  'ResourceLimitExceeded',
  'ServiceAlreadyExists',
  'ServiceAttributesLimitExceededException',
  'ServiceNotFound',
  // Amazon CloudWatch (Query protocol codes; the JSON and CBOR protocols send them as the model's shape names)
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'MissingParameter',
  'ResourceNotFound',
  'InvalidFormat',
  // Application Auto Scaling (it shares ValidationException, LimitExceededException, ResourceNotFoundException, TooManyTagsException)
  'ObjectNotFoundException',
  'ConcurrentUpdateException',
  'FailedResourceAccessException',
  'InternalServiceException',
  // Amazon EventBridge (it shares ValidationException, ResourceNotFoundException, ResourceAlreadyExistsException, LimitExceededException)
  'InvalidEventPatternException',
  'ConcurrentModificationException',
  'ManagedRuleException',
  'InternalException',
  // Amazon EFS (its errors carry no Exception suffix)
  'BadRequest',
  'FileSystemAlreadyExists',
  'FileSystemNotFound',
  'FileSystemInUse',
  'IncorrectFileSystemLifeCycleState',
  'MountTargetNotFound',
  'MountTargetConflict',
  'AccessPointNotFound',
  'AccessPointAlreadyExists',
  'PolicyNotFound',
  'InvalidPolicyException',
  'InternalServerError',
] as const;

export type ErrorType = (typeof errorTypes)[number];

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly type: ErrorType,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Shorthands for the errors thrown most. */
export const clientError = (message: string) => new ServiceError('ClientException', message);
export const invalidParameter = (message: string) => new ServiceError('InvalidParameterException', message);
export const clusterNotFound = () => new ServiceError('ClusterNotFoundException', ecsMessage('clusterNotFound'));
