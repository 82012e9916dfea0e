import { ServiceError } from '../../model/errors.js';
import { PolicyDocumentError } from './policy-engine.js';

/** IAM's errors, worded as IAM words them. */
export const iamErrors = {
  noSuch: (kind: 'user' | 'group' | 'role', name: string) => new ServiceError('NoSuchEntity', `The ${kind} with name ${name} cannot be found.`),
  noSuchInline: (kind: 'user' | 'group' | 'role', policy: string) => new ServiceError('NoSuchEntity', `The ${kind} policy with name ${policy} cannot be found.`),
  noSuchPolicy: (arn: string) => new ServiceError('NoSuchEntity', `Policy ${arn} was not found.`),
  notAttachable: (arn: string) => new ServiceError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`),
  noSuchVersion: (arn: string, version: string) => new ServiceError('NoSuchEntity', `Policy ${arn} version ${version} does not exist or is not attachable.`),
  noSuchAccessKey: (id: string) => new ServiceError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`),
  exists: (kind: 'User' | 'Group' | 'Role', name: string) => new ServiceError('EntityAlreadyExists', `${kind} with name ${name} already exists.`),
  deleteConflict: (message: string) => new ServiceError('DeleteConflict', message),
  limit: (message: string) => new ServiceError('LimitExceeded', message),
  validation: (message: string) => new ServiceError('ValidationError', message),
} as const;

/** The policy engine's refusal of a document, as the API error IAM answers with. */
export function policyError(error: unknown): unknown {
  return error instanceof PolicyDocumentError ? new ServiceError(error.code, error.message) : error;
}

/** Parse a document with the engine, turning its refusal into IAM's error. */
export function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw policyError(error);
  }
}
