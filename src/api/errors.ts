import { ServiceError, type ErrorType } from '../model/errors.js';

/** The one place where error names become HTTP statuses. Anything not listed is a client error (400). */
const statusByType: Partial<Record<ErrorType, number>> = {
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  AccessDeniedException: 403,
  RequestEntityTooLargeException: 413,
  ThrottlingException: 400,
  ServerException: 500,
};

export function httpStatusOf(type: ErrorType): number {
  return statusByType[type] ?? 400;
}

/** The AWS JSON error body for `error`; anything that is not a ServiceError is a server fault. */
export function toErrorBody(error: unknown): { status: number; type: ErrorType; message: string } {
  if (error instanceof ServiceError) {
    return { status: httpStatusOf(error.type), type: error.type, message: error.message };
  }
  return { status: 500, type: 'ServerException', message: 'An internal error occurred; see the server log.' };
}
