import { ServiceError } from '../model/errors.js';

/** EC2 Auto Scaling's errors as host groups answer them (the Query protocol's wire codes, Auto Scaling's wording). */
export const hostGroupErrors = {
  validation: (message: string) => new ServiceError('ValidationError', message),
  alreadyExists: (message: string) => new ServiceError('AlreadyExists', message),
  inUse: (message: string) => new ServiceError('ResourceInUse', message),
  inProgress: (message: string) => new ServiceError('ScalingActivityInProgress', message),
  limit: (message: string) => new ServiceError('LimitExceeded', message),
  badToken: () => new ServiceError('InvalidNextToken', 'The NextToken value is invalid'),
  groupNotFound: (name: string) => new ServiceError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`),
  launchConfigurationNotFound: (name: string) =>
    new ServiceError('ValidationError', `Launch configuration name not found - Launch configuration '${name}' not found`),
} as const;
