import { invalidParameter } from '../model/errors.js';
import type { SecretRecord } from '../state/records/secrets.js';

/** ListSecrets' filter keys berth answers (primary-region and owning-service match nothing berth holds). */
export const secretFilterKeys = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;
export type SecretFilterKey = (typeof secretFilterKeys)[number];

export interface SecretFilter {
  readonly Key?: string;
  readonly Values?: readonly string[];
}

/**
 * ListSecrets' filters, as Secrets Manager documents them: each value is a prefix (a leading `!` negates it);
 * the values of one filter are OR'ed, filters are AND'ed. `name`, `tag-key` and `tag-value` match case-sensitively,
 * `description` and `all` (every word of the name, description, tag keys and values) do not.
 */
export function secretMatcher(filters: readonly SecretFilter[] | undefined, region: string): (secret: SecretRecord) => boolean {
  const checks = (filters ?? []).map((filter) => {
    const key = filter.Key as SecretFilterKey;
    if (!secretFilterKeys.includes(key)) throw invalidParameter(`Invalid filter key: ${String(filter.Key)}.`);
    const values = filter.Values ?? [];
    if (values.length === 0) throw invalidParameter(`The filter ${key} requires at least one value.`);
    return (secret: SecretRecord) =>
      values.some((raw) => {
        const negate = raw.startsWith('!');
        const value = negate ? raw.slice(1) : raw;
        return matches(secret, key, value, region) !== negate;
      });
  });
  return (secret) => checks.every((check) => check(secret));
}

function matches(secret: SecretRecord, key: SecretFilterKey, value: string, region: string): boolean {
  const lower = value.toLowerCase();
  switch (key) {
    case 'name':
      return secret.name.startsWith(value);
    case 'description':
      return (secret.description ?? '').toLowerCase().startsWith(lower);
    case 'tag-key':
      return secret.tags.some((t) => t.Key.startsWith(value));
    case 'tag-value':
      return secret.tags.some((t) => t.Value.startsWith(value));
    case 'primary-region':
      return region.startsWith(value);
    case 'owning-service':
      return false;
    case 'all': {
      const words = [secret.name, secret.description ?? '', ...secret.tags.flatMap((t) => [t.Key, t.Value])].flatMap((text) => text.toLowerCase().split(/[\s/_+=.@-]+/));
      return words.some((word) => word.startsWith(lower)) || secret.name.toLowerCase().startsWith(lower);
    }
  }
}
