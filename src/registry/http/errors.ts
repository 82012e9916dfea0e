import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError, type RegistryErrorCode } from '../../model/registry/errors.js';

/** The usual HTTP status of each OCI error code. */
const statusByCode: Record<RegistryErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  PAGINATION_NUMBER_INVALID: 400,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
};

export function httpStatusOf(error: RegistryError): number {
  if (error.reason === 'range') return 416;
  if (error.reason === 'too-large') return 413;
  if (error.reason === 'referenced-by-index') return 409;
  return statusByCode[error.code];
}

export const API_VERSION_HEADER = 'docker-distribution-api-version';
export const API_VERSION = 'registry/2.0';

/** Answer with the OCI error body `{"errors":[{code,message,detail}]}`; anything not a RegistryError is a logged 500. */
export function sendRegistryError(request: FastifyRequest, reply: FastifyReply, error: unknown, realm: string): FastifyReply {
  reply.header(API_VERSION_HEADER, API_VERSION);
  if (!(error instanceof RegistryError)) {
    request.log.error({ err: error }, 'registry request failed');
    return reply.code(500).type('application/json').send({ errors: [{ code: 'UNKNOWN', message: 'internal error; see the server log', detail: null }] });
  }
  const status = httpStatusOf(error);
  request.log.debug({ code: error.code, message: error.message }, 'registry request refused');
  if (status === 401) reply.header('www-authenticate', `Basic realm="${realm}",service="ecr"`);
  if (error.reason === 'range' && error.detail && typeof error.detail === 'object' && 'offset' in error.detail) {
    const offset = (error.detail as { offset: number }).offset;
    reply.header('range', `0-${Math.max(offset - 1, 0)}`);
  }
  return reply.code(status).type('application/json').send({ errors: [{ code: error.code, message: error.message, detail: error.detail ?? null }] });
}
