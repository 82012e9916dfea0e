import { invalidParameter } from './errors.js';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export const MAX_TAGS = 50;

/**
 * The ECS rules for user tags beyond what the model checks (lengths, characters, 50 per request): keys are
 * required and unique, and the `aws:` prefix is reserved.
 */
export function validateTags(tags: readonly { key?: string; value?: string }[] | undefined, field = 'tags'): Tag[] {
  const out: Tag[] = [];
  const seen = new Set<string>();
  for (const [i, tag] of (tags ?? []).entries()) {
    if (!tag.key) throw invalidParameter(`Missing required parameter '${field}[${i}].key'.`);
    if (tag.key.toLowerCase().startsWith('aws:')) {
      throw invalidParameter(`Tag keys beginning with 'aws:' are reserved for AWS use: '${tag.key}'.`);
    }
    if (seen.has(tag.key)) throw invalidParameter(`Duplicate tag key '${tag.key}' in '${field}'.`);
    seen.add(tag.key);
    out.push({ key: tag.key, value: tag.value ?? '' });
  }
  return out;
}

/** `existing` with `added` applied: same keys overwritten, new keys appended. Enforces the 50-tag limit. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = new Map(existing.map((t) => [t.key, t.value]));
  for (const t of added) merged.set(t.key, t.value);
  if (merged.size > MAX_TAGS) {
    throw invalidParameter(`A resource can have at most ${MAX_TAGS} tags; this request would leave it with ${merged.size}.`);
  }
  return [...merged].map(([key, value]) => ({ key, value }));
}

export function removeTags(existing: readonly Tag[], keys: readonly string[]): Tag[] {
  const drop = new Set(keys);
  return existing.filter((t) => !drop.has(t.key));
}
