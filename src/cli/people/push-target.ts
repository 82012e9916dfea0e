/** Where `berth push` puts an image: a repository and tag from `REPO:TAG`, or from the name the source carries. Pure. */
import { isRepositoryName, isTag } from '../../model/registry/names.js';
import { CliUsageError } from './settings.js';

export interface PushTarget {
  readonly repository: string;
  readonly tag: string;
}

/** A first path component that names a registry host (`127.0.0.1:7400/…`, `docker.io/…`, `localhost/…`). */
const looksLikeHost = (component: string) => component.includes('.') || component.includes(':') || component === 'localhost';

/**
 * `web:v2`, `team/web` (tag `latest`), `127.0.0.1:7400/team/web:v2` (the registry host dropped: berth pushes to
 * its own). `what` names where the text came from in refusals.
 */
export function parseTarget(text: string, what: string): PushTarget {
  if (text.includes('@')) throw new CliUsageError(`${what} '${text}' names a digest: push to a tag, e.g. web:v2`);
  let rest = text;
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  if (parts.length > 1 && looksLikeHost(parts[0]!)) parts.shift();
  const repository = parts.join('/');
  if (!isRepositoryName(repository)) throw new CliUsageError(`${what} '${text}': '${repository}' is not a repository name (lowercase letters, digits, ., _, - in components joined by /)`);
  if (!isTag(tag)) throw new CliUsageError(`${what} '${text}': '${tag}' is not a tag (up to 128 of A-Z a-z 0-9 _ . -)`);
  return { repository, tag };
}

/**
 * The target when the command line gives none: the name the source was saved with (`docker save`'s RepoTags, an
 * OCI layout's `org.opencontainers.image.ref.name` when it names a repository, not just a tag).
 */
export function targetFromSource(sourceName: string | undefined, source: string): PushTarget {
  const usable = sourceName !== undefined && /[/:]/.test(sourceName) && !sourceName.startsWith(':');
  if (!usable) throw new CliUsageError(`${source} carries no repository name: give one, e.g. \`berth push ${source} web:v1\``);
  return parseTarget(sourceName, `the name in ${source}`);
}
