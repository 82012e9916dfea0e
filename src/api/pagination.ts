import { invalidParameter } from '../model/errors.js';
import type { Entry, Store } from '../store/store.js';

export interface PageRequest {
  readonly nextToken?: string | undefined;
  readonly maxResults?: number | undefined;
}

export interface PageRules {
  /** ECS's page size when maxResults is omitted. */
  readonly defaultSize: number;
  readonly maxSize: number;
  readonly reverse?: boolean;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/**
 * One page of the records under `prefix`, keeping those `select` maps to a value. The token is opaque to
 * clients: the last key examined, bound to the prefix it came from.
 */
export async function pageOf<T>(
  store: Store,
  prefix: string,
  request: PageRequest,
  rules: PageRules,
  select: (entry: Entry) => T | undefined,
): Promise<Page<T>> {
  const size = pageSize(request, rules);
  let after = request.nextToken === undefined ? undefined : decodeToken(request.nextToken, prefix);
  const items: T[] = [];
  for (;;) {
    const chunk = await store.range(prefix, { after, limit: Math.max(size * 2, 50), reverse: rules.reverse ?? false });
    for (const entry of chunk.entries) {
      const item = select(entry);
      if (item !== undefined) items.push(item);
      after = entry.key;
      if (items.length === size) {
        const rest = chunk.more || entry !== chunk.entries.at(-1);
        return rest ? { items, nextToken: encodeToken(prefix, entry.key) } : { items };
      }
    }
    if (!chunk.more) return { items };
  }
}

/** One page of an in-memory list (for short, computed lists); the token is an offset. */
export function pageOfList<T>(all: readonly T[], request: PageRequest, rules: PageRules): Page<T> {
  const size = pageSize(request, rules);
  const start = request.nextToken === undefined ? 0 : Number(decodeToken(request.nextToken, '#').slice(1));
  if (!Number.isInteger(start) || start > all.length) throw invalidParameter('The nextToken is not valid for this request.');
  const items = all.slice(start, start + size);
  return start + size < all.length ? { items, nextToken: encodeToken('#', `#${start + size}`) } : { items };
}

function pageSize(request: PageRequest, rules: PageRules): number {
  const size = request.maxResults ?? rules.defaultSize;
  if (!Number.isInteger(size) || size < 1 || size > rules.maxSize) {
    throw invalidParameter(`maxResults must be between 1 and ${rules.maxSize}.`);
  }
  return size;
}

export function encodeToken(prefix: string, key: string): string {
  return Buffer.from(JSON.stringify({ p: prefix, k: key })).toString('base64url');
}

function decodeToken(token: string, prefix: string): string {
  try {
    const { p, k } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p: unknown; k: unknown };
    if (p === prefix && typeof k === 'string' && k.startsWith(prefix)) return k;
  } catch {
    // fall through
  }
  throw invalidParameter('The nextToken is not valid for this request.');
}

/**
 * One page of an in-memory list sorted by `keyOf`, after the item whose key `marker` names (IAM's and ELB's
 * `Marker` paging): the marker is opaque to clients (the last key given, encoded), so an item added or removed
 * between pages neither repeats nor hides another. `invalid` is the API's own error for a marker it never gave.
 */
export function pageAfterKey<T>(
  all: readonly T[],
  keyOf: (item: T) => string,
  marker: string | undefined,
  size: number,
  invalid: () => Error,
): { items: T[]; next?: string } {
  let start = 0;
  if (marker !== undefined) {
    const after = decodeMarker(marker, invalid);
    start = all.findIndex((item) => keyOf(item) > after);
    if (start === -1) start = all.length;
  }
  const items = all.slice(start, start + size);
  return start + size < all.length ? { items, next: encodeMarker(keyOf(items[items.length - 1]!)) } : { items };
}

const encodeMarker = (key: string) => Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');

function decodeMarker(marker: string, invalid: () => Error): string {
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // answered below
  }
  throw invalid();
}
