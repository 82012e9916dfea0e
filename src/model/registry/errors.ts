/**
 * The error codes of the OCI Distribution Specification (plus Docker's TAG_INVALID), which the registry's
 * core throws and each front end translates: the `/v2/` routes answer them as they are, the ECR API maps
 * them to its exception names.
 */
export const registryErrorCodes = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'PAGINATION_NUMBER_INVALID',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
] as const;

export type RegistryErrorCode = (typeof registryErrorCodes)[number];

/**
 * Why a request failed, for the cases where one OCI code covers several situations that a front end tells
 * apart (the ECR API answers a missing layer and a missing child manifest with different exceptions).
 */
export type RegistryErrorReason =
  | 'range' // a chunk that does not continue the upload (HTTP 416)
  | 'too-large' // a manifest over the size limit (HTTP 413)
  | 'missing-layer'
  | 'missing-manifest'
  | 'tag-immutable'
  | 'referenced-by-index'
  | 'not-empty';

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly detail?: unknown,
    readonly reason?: RegistryErrorReason,
  ) {
    super(message);
  }
}
