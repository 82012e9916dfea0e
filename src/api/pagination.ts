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
