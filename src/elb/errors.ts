import { ServiceError } from '../model/errors.js';

/** Elastic Load Balancing's errors, worded as ELB words them (codes are the Query protocol's wire codes). */
export const elbErrors = {
  validation: (message: string) => new ServiceError('ValidationError', message),
  lbNotFound: (what = 'One or more load balancers not found') => new ServiceError('LoadBalancerNotFound', what),
  tgNotFound: (what = 'One or more target groups not found') => new ServiceError('TargetGroupNotFound', what),
  listenerNotFound: (what = 'One or more listeners not found') => new ServiceError('ListenerNotFound', what),
  ruleNotFound: (what = 'One or more rules not found') => new ServiceError('RuleNotFound', what),
  duplicateLb: () => new ServiceError('DuplicateLoadBalancerName', 'A load balancer with the same name exists, but with different settings'),
  duplicateTg: () => new ServiceError('DuplicateTargetGroupName', 'A target group with the same name exists, but with different settings'),
  duplicateListener: () => new ServiceError('DuplicateListener', 'A listener already exists on this port for this load balancer'),
  duplicateTagKeys: (key: string) => new ServiceError('DuplicateTagKeys', `Tag key '${key}' specified more than once`),
  priorityInUse: (priority: number) => new ServiceError('PriorityInUse', `Priority '${priority}' is currently in use`),
  resourceInUse: (message: string) => new ServiceError('ResourceInUse', message),
  config: (message: string) => new ServiceError('InvalidConfigurationRequest', message),
  incompatible: (message: string) => new ServiceError('IncompatibleProtocols', message),
  invalidTarget: (message: string) => new ServiceError('InvalidTarget', message),
  invalidAction: (message: string) => new ServiceError('InvalidLoadBalancerAction', message),
  notPermitted: (message: string) => new ServiceError('OperationNotPermitted', message),
  subnetNotFound: (id: string) => new ServiceError('SubnetNotFound', `The subnet ID '${id}' is not valid`),
  securityGroup: (id: string) => new ServiceError('InvalidSecurityGroup', `The security group '${id}' is not valid`),
  associationLimit: (arn: string) =>
    new ServiceError('TargetGroupAssociationLimit', `The following target groups cannot be associated with more than one load balancer: ${arn}`),
  tooMany: (
    type: 'TooManyTargets' | 'TooManyRules' | 'TooManyListeners' | 'TooManyLoadBalancers' | 'TooManyTargetGroups' | 'TooManyTags' | 'TooManyActions',
    message: string,
  ) => new ServiceError(type, message),
  unsupportedProtocol: (protocol: string) => new ServiceError('UnsupportedProtocol', `Protocol '${protocol}' is not supported`),
} as const;
