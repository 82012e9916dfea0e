import { ServiceError } from '../model/errors.js';

/** Cloud Map's errors, worded as Cloud Map words them, each naming what it is about. */
export const cloudMapErrors = {
  invalid: (message: string) => new ServiceError('InvalidInput', message),
  namespaceNotFound: (id: string) => new ServiceError('NamespaceNotFound', `Namespace not found: ${id}`),
  serviceNotFound: (id: string) => new ServiceError('ServiceNotFound', `Service not found: ${id}`),
  instanceNotFound: (id: string) => new ServiceError('InstanceNotFound', `Instance not found: ${id}`),
  operationNotFound: (id: string) => new ServiceError('OperationNotFound', `Operation not found: ${id}`),
  resourceNotFound: (arn: string) => new ServiceError('ResourceNotFoundException', `Resource not found: ${arn}`),
  namespaceExists: (name: string, id: string) => new ServiceError('NamespaceAlreadyExists', `Namespace ${name} already exists (NamespaceId ${id}).`),
  serviceExists: (name: string, id: string) => new ServiceError('ServiceAlreadyExists', `Service ${name} already exists in the namespace (ServiceId ${id}).`),
  duplicateRequest: (what: string) => new ServiceError('DuplicateRequest', `CreatorRequestId ${what} was already used for another request with other parameters.`),
  namespaceInUse: (id: string, services: number) =>
    new ServiceError('ResourceInUse', `Namespace ${id} has ${services} associated service(s): delete them first.`),
  serviceInUse: (id: string, instances: number) =>
    new ServiceError('ResourceInUse', `Service ${id} has ${instances} registered instance(s): deregister them first.`),
  customHealthNotFound: (serviceId: string) =>
    new ServiceError('CustomHealthNotFound', `Service ${serviceId} has no HealthCheckCustomConfig: its instances' health cannot be set.`),
  tooManyTags: () => new ServiceError('TooManyTagsException', 'A resource can have at most 50 tags (Tags).'),
  attributesLimit: () => new ServiceError('ServiceAttributesLimitExceededException', 'A service can have at most 30 attributes (Attributes).'),
};
