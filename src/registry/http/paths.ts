/** Which OCI distribution endpoint a `/v2/...` path names. Repository names may contain `/`. */
export type RegistryRoute =
  | { readonly kind: 'base' }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'tags'; readonly name: string }
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: string }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: string }
  | { readonly kind: 'uploads'; readonly name: string }
  | { readonly kind: 'upload'; readonly name: string; readonly id: string }
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: string };

const patterns: readonly [RegExp, (m: RegExpExecArray) => RegistryRoute][] = [
  [/^(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: m[2]! })],
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: m[2]! })],
  [/^(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, digest: m[2]! })],
];

/** Route a raw request URL (path and query, still percent-encoded); undefined when it names no endpoint. */
export function parseRegistryPath(rawUrl: string): RegistryRoute | undefined {
  const q = rawUrl.indexOf('?');
  let path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  try {
    path = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (path === '/v2' || path === '/v2/') return { kind: 'base' };
  if (!path.startsWith('/v2/')) return undefined;
  const rest = path.slice(4);
  if (rest === '_catalog') return { kind: 'catalog' };
  for (const [pattern, build] of patterns) {
    const m = pattern.exec(rest);
    if (m) return build(m);
  }
  return undefined;
}

/** The path of a repository's endpoint, for Location and Link headers. */
export function registryPath(name: string, ...rest: string[]): string {
  return `/v2/${name}/${rest.join('/')}`;
}
