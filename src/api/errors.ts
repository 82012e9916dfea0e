import { ServiceError, type ErrorType } from '../model/errors.js';
import { StoreUnavailableError } from '../store/store.js';

/**
 * The one place where error names become HTTP statuses. Anything not listed is a client error (400), which
 * includes AccessDeniedException: ECS, ECR and CloudWatch Logs answer an IAM refusal with 400, not 403.
 */
const statusByType: Partial<Record<ErrorType, number>> = {
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  RequestEntityTooLargeException: 413,
  ThrottlingException: 400,
  ServerException: 500,
  ExpiredTokenException: 400,
  // IAM and STS, with the statuses their models declare.
  AccessDenied: 403,
  DeleteConflict: 409,
  EntityAlreadyExists: 409,
  LimitExceeded: 409,
  NoSuchEntity: 404,
  // CloudWatch (alarms), as its model declares.
  ResourceNotFound: 404,
  InternalServiceException: 500,
  // EventBridge, as its model declares.
  InternalException: 500,
  // Amazon EFS, as its model declares.
  BadRequest: 400,
  FileSystemAlreadyExists: 409,
  FileSystemNotFound: 404,
  FileSystemInUse: 409,
  IncorrectFileSystemLifeCycleState: 409,
  MountTargetNotFound: 404,
  MountTargetConflict: 409,
  IncorrectMountTargetState: 409,
  AccessPointNotFound: 404,
  AccessPointAlreadyExists: 409,
  PolicyNotFound: 404,
  InvalidPolicyException: 400,
  InternalServerError: 500,
  ServiceUnavailable: 503,
};

export function httpStatusOf(type: ErrorType): number {
  return statusByType[type] ?? 400;
}

/**
 * AWS's common error for a service that cannot answer for now. Not a domain error (no API operation throws
 * it): only a store outage becomes it, below.
 */
export type UnavailableType = 'ServiceUnavailableException';

/**
 * The AWS JSON error body for `error`. A store that cannot be reached (etcd down or partitioned) is a 503
 * the client may retry; any other error that is not a ServiceError is a server fault.
 */
export function toErrorBody(error: unknown): { status: number; type: ErrorType | UnavailableType; message: string } {
  if (error instanceof ServiceError) {
    return { status: httpStatusOf(error.type), type: error.type, message: error.message };
  }
  if (causedByStoreOutage(error)) {
    return {
      status: 503,
      type: 'ServiceUnavailableException',
      message: 'The service is temporarily unable to reach its state store; retry the request.',
    };
  }
  return { status: 500, type: 'ServerException', message: 'An internal error occurred; see the server log.' };
}

/** Whether `error`, or an error it wraps as its cause, is a store outage. */
function causedByStoreOutage(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof StoreUnavailableError) return true;
  }
  return false;
}

/**
 * The Query protocol (IAM, STS) names the common errors differently from the JSON protocol: the verifier and
 * the protocol layer throw the JSON names, and a Query answer carries these codes instead.
 */
const queryCodeByType: ReadonlyMap<string, { code: string; status?: number }> = new Map([
  ['MissingAuthenticationTokenException', { code: 'MissingAuthenticationToken' }],
  ['IncompleteSignatureException', { code: 'IncompleteSignature', status: 400 }],
  ['InvalidSignatureException', { code: 'SignatureDoesNotMatch' }],
  ['UnrecognizedClientException', { code: 'InvalidClientTokenId' }],
  ['ExpiredTokenException', { code: 'ExpiredToken', status: 403 }],
  ['AccessDeniedException', { code: 'AccessDenied' }],
  ['SerializationException', { code: 'MalformedQueryString', status: 400 }],
  ['RequestEntityTooLargeException', { code: 'RequestEntityTooLarge' }],
  ['ServerException', { code: 'ServiceFailure' }],
  ['ServiceUnavailableException', { code: 'ServiceUnavailable' }],
]);

/** The Query protocol's error for `error`: its code, status and whether the client (Sender) is at fault. */
export function toQueryErrorBody(error: unknown): { status: number; code: string; message: string; fault: 'Sender' | 'Receiver' } {
  const { type, message, status } = toErrorBody(error);
  const renamed = queryCodeByType.get(type);
  const finalStatus = renamed?.status ?? status;
  return { status: finalStatus, code: renamed?.code ?? type, message, fault: finalStatus >= 500 ? 'Receiver' : 'Sender' };
}
