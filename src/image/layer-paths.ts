/**
 * What a layer tar entry's path means: a place inside the layer, an OCI whiteout, or an attempt to leave
 * the layer directory. Pure: no I/O.
 */

/** A tar entry that would write outside its layer directory. */
export class UnsafeLayerPathError extends Error {
  override readonly name = 'UnsafeLayerPathError';
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/**
 * `path` relative to the layer root, without `.` components or leading and trailing slashes (`''` is the
 * root itself). Throws {@link UnsafeLayerPathError} for any `..` component: layers never need one.
 */
export function normalizeEntryPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafeLayerPathError(`tar entry "${path}" escapes the layer directory`);
    parts.push(part);
  }
  return parts.join('/');
}

/** The directory part of a normalised path (`''` for top-level entries). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Every proper ancestor of a normalised path, outermost first (`a/b/c` → `a`, `a/b`). */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

export type WhiteoutEntry =
  /** Hide `path` of the layers below. */
  | { readonly kind: 'whiteout'; readonly path: string }
  /** Hide everything the layers below have in directory `dir`. */
  | { readonly kind: 'opaque'; readonly dir: string }
  /** AUFS bookkeeping (`.wh..wh.plnk`, …): nothing to unpack. */
  | { readonly kind: 'ignored' };

/** The whiteout meaning of a normalised entry path, or undefined for an ordinary entry. */
export function classifyWhiteout(path: string): WhiteoutEntry | undefined {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = slash < 0 ? '' : path.slice(0, slash);
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'ignored' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') throw new UnsafeLayerPathError(`invalid whiteout "${path}"`);
  return { kind: 'whiteout', path: dir === '' ? name : `${dir}/${name}` };
}

/**
 * Resolve a hardlink's target to a normalised path inside the layer. Tar stores hardlink targets relative
 * to the archive root, so `..` is never legitimate there.
 */
export function normalizeHardlinkTarget(linkpath: string): string {
  const target = normalizeEntryPath(linkpath);
  if (target === '') throw new UnsafeLayerPathError(`hardlink to the layer root ("${linkpath}")`);
  return target;
}
