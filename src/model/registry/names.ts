import { RegistryError } from './errors.js';

/**
 * Repository names: the OCI name grammar (path components of lowercase alphanumerics joined by `.`, `_`,
 * `__` or dashes, separated by `/`), within ECR's length limits.
 */
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const REPOSITORY_NAME_MIN = 2;
export const REPOSITORY_NAME_MAX = 256;

/** Tags as the OCI specification defines them. */
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** The digest grammar of the OCI image spec; only sha256 and sha512 are accepted for content. */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
// A Map: the algorithm comes from the client (`constructor:…` must find nothing).
const HEX_LENGTH: ReadonlyMap<string, number> = new Map([['sha256', 64], ['sha512', 128]]);

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** `algorithm:hex`. */
  readonly value: string;
}

export function isRepositoryName(name: string): boolean {
  return name.length >= REPOSITORY_NAME_MIN && name.length <= REPOSITORY_NAME_MAX && REPOSITORY_NAME.test(name);
}

/** Throws NAME_INVALID naming what is wrong with `name`. */
export function checkRepositoryName(name: string): void {
  if (isRepositoryName(name)) return;
  const why =
    name.length < REPOSITORY_NAME_MIN || name.length > REPOSITORY_NAME_MAX
      ? `must be ${REPOSITORY_NAME_MIN} to ${REPOSITORY_NAME_MAX} characters long`
      : 'must be lowercase letters, digits and separators (., _, __, -) in components joined by /';
  throw new RegistryError('NAME_INVALID', `invalid repository name '${name}': ${why}`, { name });
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

export function checkTag(tag: string): void {
  if (!isTag(tag)) {
    throw new RegistryError('TAG_INVALID', `invalid tag '${tag}': up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`, { tag });
  }
}

/** True when `reference` looks like a digest (has an algorithm prefix), whether or not it is a valid one. */
export function looksLikeDigest(reference: string): boolean {
  return reference.includes(':');
}

/** Parse a content digest; anything malformed or of an unsupported algorithm is DIGEST_INVALID. */
export function parseDigest(value: string): Digest {
  const digest = tryParseDigest(value);
  if (!digest) {
    throw new RegistryError('DIGEST_INVALID', `invalid digest '${value}': expected sha256:<64 hex> or sha512:<128 hex>`, { digest: value });
  }
  return digest;
}

export function tryParseDigest(value: string): Digest | undefined {
  if (!DIGEST.test(value)) return undefined;
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  const length = HEX_LENGTH.get(algorithm);
  if (length === undefined || hex.length !== length || !/^[a-f0-9]+$/.test(hex)) return undefined;
  return { algorithm: algorithm as DigestAlgorithm, hex, value };
}
