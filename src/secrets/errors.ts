import { invalidParameter, ServiceError } from '../model/errors.js';

/** Secrets Manager's wording for the errors its operations share. Never a secret's value in any of them. */
export const secretErrors = {
  notFound: () => new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
  versionNotFound: (what: 'VersionId' | 'staging label', value: string) =>
    new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}: ${value}`),
  exists: (name: string) => new ServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`),
  markedForDeletion: () => new ServiceError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion."),
  nameScheduledForDeletion: () =>
    new ServiceError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion."),
  alreadyDeleted: () => new ServiceError('InvalidRequestException', "You tried to perform the operation on a secret that's currently marked deleted."),
  versionImmutable: () => new ServiceError('ResourceExistsException', "You can't modify an existing version, you can only create a new version."),
  bothValues: () => invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret."),
  noValue: () => new ServiceError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.'),
  recoveryWindow: () => invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).'),
  forceWithWindow: () => invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."),
  invalidNextToken: () => new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.'),
};
