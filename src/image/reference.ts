/**
 * Image references as Docker reads them: `busybox` is `docker.io/library/busybox:latest`,
 * `host:port/ns/repo:tag`, `repo@sha256:…`, `repo:tag@sha256:…`. Pure: no I/O.
 */
import { parseDigest } from './digest.js';
import { PullError } from './image-service.js';

/**
 * A reference that is not well formed; the message says which part is wrong. A PullError, so that a task
 * naming such an image stops with CannotPullContainerError whether the engine pulled or looked it up.
 */
export class InvalidReferenceError extends PullError {}

export interface ImageReference {
  /** Registry host as written in names (`docker.io`, `127.0.0.1:5000`, `[::1]:5000`). */
  readonly domain: string;
  /** Repository path inside the registry (`library/busybox`). */
  readonly repository: string;
  /** Absent only when the reference names a digest without a tag. */
  readonly tag?: string;
  readonly digest?: string;
}

/** The default registry's name in references, and the host its API is served from. */
export const DOCKER_HUB_DOMAIN = 'docker.io';
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

const MAX_NAME_LENGTH = 255;
// distribution/reference's grammar: lowercase components joined by `.`, `_`, `__` or runs of `-`.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_NAME = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
const IPV6_BRACKETED = /^\[[0-9a-fA-F:.]+\]$/;
const PORT = /^[0-9]{1,5}$/;

/** Parse and normalise `text`; throws {@link InvalidReferenceError} naming the offending part. */
export function parseReference(text: string): ImageReference {
  if (typeof text !== 'string' || text.length === 0) throw new InvalidReferenceError('invalid reference format: empty image reference');
  if (text !== text.trim() || /\s/.test(text)) throw new InvalidReferenceError(`invalid reference format: "${text}" contains whitespace`);

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch (e) {
      throw new InvalidReferenceError(`invalid reference format: "${text}": ${(e as Error).message}`);
    }
  }

  // A tag follows the last colon only if no slash comes after it (`host:5000/repo` has a port, not a tag).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(`invalid reference format: "${text}": invalid tag "${tag}"`);
  }
  if (rest.length === 0) throw new InvalidReferenceError(`invalid reference format: "${text}" has no repository name`);

  const { domain, repository } = splitDomain(rest, text);
  if (domain.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw new InvalidReferenceError(`invalid reference format: "${text}": repository name longer than ${MAX_NAME_LENGTH} characters`);
  }
  return {
    domain,
    repository,
    ...(tag !== undefined ? { tag } : digest === undefined ? { tag: 'latest' } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

function splitDomain(name: string, text: string): { domain: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  // Docker's rule: the first component is a registry when it looks like a host (a dot, a port, or localhost).
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  let domain = hasDomain ? first : DOCKER_HUB_DOMAIN;
  let repository = hasDomain ? name.slice(slash + 1) : name;
  if (hasDomain) checkDomain(domain, text);
  if (domain === 'index.docker.io') domain = DOCKER_HUB_DOMAIN;
  for (const component of repository.split('/')) {
    if (component.length === 0) throw new InvalidReferenceError(`invalid reference format: "${text}": empty path component in "${repository}"`);
    if (component !== component.toLowerCase()) {
      throw new InvalidReferenceError(`invalid reference format: "${text}": repository name must be lowercase`);
    }
    if (!PATH_COMPONENT.test(component)) {
      throw new InvalidReferenceError(`invalid reference format: "${text}": invalid repository path component "${component}"`);
    }
  }
  if (domain === DOCKER_HUB_DOMAIN && !repository.includes('/')) repository = `library/${repository}`;
  return { domain, repository };
}

function checkDomain(domain: string, text: string): void {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new InvalidReferenceError(`invalid reference format: "${text}": invalid registry host "${domain}"`);
      port = after.slice(1);
    }
    if (!IPV6_BRACKETED.test(host)) throw new InvalidReferenceError(`invalid reference format: "${text}": invalid registry host "${domain}"`);
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (!DOMAIN_NAME.test(host)) throw new InvalidReferenceError(`invalid reference format: "${text}": invalid registry host "${domain}"`);
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) {
    throw new InvalidReferenceError(`invalid reference format: "${text}": invalid registry port in "${domain}"`);
  }
}

/** The normalised text of `ref`: `domain/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.domain}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The same repository pinned to `digest`, without a tag: `domain/repository@digest`. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return { domain: ref.domain, repository: ref.repository, digest };
}

/** The host (and port) the registry API answers on: Docker Hub's names live on registry-1.docker.io. */
export function registryApiHost(domain: string): string {
  return domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_API_HOST : domain;
}
