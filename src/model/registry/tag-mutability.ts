import { wildcardMatch } from './lifecycle-policy.js';

export const tagMutabilities = ['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'] as const;
export type TagMutability = (typeof tagMutabilities)[number];

export interface TagMutabilityFilter {
  readonly filterType: 'WILDCARD';
  readonly filter: string;
}

export interface TagMutabilitySetting {
  readonly imageTagMutability: TagMutability;
  readonly imageTagMutabilityExclusionFilters?: readonly TagMutabilityFilter[];
}

/**
 * Whether `tag` may not be moved to another image once it exists: IMMUTABLE repositories protect every
 * tag, except those matching an exclusion filter under IMMUTABLE_WITH_EXCLUSION; MUTABLE_WITH_EXCLUSION
 * protects only the tags that match a filter.
 */
export function isTagImmutable(setting: TagMutabilitySetting, tag: string): boolean {
  const matches = () => (setting.imageTagMutabilityExclusionFilters ?? []).some((f) => wildcardMatch(f.filter, tag));
  switch (setting.imageTagMutability) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !matches();
    case 'MUTABLE_WITH_EXCLUSION':
      return matches();
  }
}

/** The exclusion filters are required with the *_WITH_EXCLUSION settings and meaningless without; undefined when valid. */
export function tagMutabilityProblem(setting: TagMutabilitySetting): string | undefined {
  const withExclusion = setting.imageTagMutability.endsWith('_WITH_EXCLUSION');
  const count = setting.imageTagMutabilityExclusionFilters?.length ?? 0;
  if (withExclusion && count === 0) return `imageTagMutability ${setting.imageTagMutability} requires imageTagMutabilityExclusionFilters.`;
  if (!withExclusion && count > 0) return `imageTagMutabilityExclusionFilters apply only to the *_WITH_EXCLUSION settings, not ${setting.imageTagMutability}.`;
  return undefined;
}
