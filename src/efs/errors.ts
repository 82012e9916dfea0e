import { ServiceError } from '../model/errors.js';

/** EFS's errors, worded as EFS words them, each naming what it is about. */
export const efsErrors = {
  badRequest: (message: string) => new ServiceError('BadRequest', message),
  fileSystemNotFound: (id: string) => new ServiceError('FileSystemNotFound', `File system '${id}' does not exist.`),
  fileSystemExists: (token: string, id: string) =>
    new ServiceError('FileSystemAlreadyExists', `File system '${id}' already exists with creation token '${token}'`),
  fileSystemInUse: (id: string, what: string) => new ServiceError('FileSystemInUse', `File system '${id}' is in use: it has ${what}.`),
  lifeCycle: (id: string, state: string) =>
    new ServiceError('IncorrectFileSystemLifeCycleState', `File system '${id}' is in the '${state}' state; the operation needs 'available'.`),
  mountTargetNotFound: (id: string) => new ServiceError('MountTargetNotFound', `Mount target '${id}' does not exist.`),
  mountTargetConflict: (message: string) => new ServiceError('MountTargetConflict', message),
  incorrectMountTargetState: (message: string) => new ServiceError('IncorrectMountTargetState', message),
  accessPointNotFound: (id: string) => new ServiceError('AccessPointNotFound', `Access point '${id}' does not exist.`),
  accessPointExists: (token: string, id: string) =>
    new ServiceError('AccessPointAlreadyExists', `Access point '${id}' already exists with client token '${token}'.`),
  policyNotFound: (id: string) => new ServiceError('PolicyNotFound', `File system '${id}' has no file system policy.`),
  invalidPolicy: (message: string) => new ServiceError('InvalidPolicyException', message),
};
