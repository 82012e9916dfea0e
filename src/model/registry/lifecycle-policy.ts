/**
 * ECR lifecycle policies: parsing with ECR's validation rules, and evaluation — which images a policy
 * expires, and by which rule. Pure: the caller supplies the images and the clock.
 *
 * Evaluation follows ECR's documented semantics:
 * - rules apply in ascending `rulePriority`;
 * - an image selected by a rule (matching its tag selection) can no longer be expired by a rule of lower
 *   priority, whether or not the selecting rule expired it;
 * - a rule still counts images that higher rules already expired when it applies `imageCountMoreThan`;
 * - `imageCountMoreThan: n` keeps the n most recently pushed selected images and expires the rest;
 *   `sinceImagePushed: d days` expires selected images pushed more than d days ago;
 * - `tagPrefixList` / `tagPatternList` match when every entry matches at least one of the image's tags.
 */

export const tagStatuses = ['tagged', 'untagged', 'any'] as const;
export type LifecycleTagStatus = (typeof tagStatuses)[number];
export const countTypes = ['imageCountMoreThan', 'sinceImagePushed'] as const;
export type LifecycleCountType = (typeof countTypes)[number];

export interface LifecycleRule {
  readonly rulePriority: number;
  readonly description?: string;
  readonly selection: {
    readonly tagStatus: LifecycleTagStatus;
    readonly tagPrefixList?: readonly string[];
    readonly tagPatternList?: readonly string[];
    readonly countType: LifecycleCountType;
    readonly countUnit?: 'days';
    readonly countNumber: number;
  };
  readonly action: { readonly type: 'expire' };
}

export interface LifecyclePolicy {
  readonly rules: readonly LifecycleRule[];
}

/** What evaluation needs of an image. */
export interface LifecycleImage {
  readonly digest: string;
  readonly tags: readonly string[];
  /** Milliseconds since the epoch. */
  readonly pushedAt: number;
}

export interface LifecycleVerdict {
  readonly image: LifecycleImage;
  readonly rulePriority: number;
}

/** A policy ECR would refuse; the message is the reason. */
export class LifecyclePolicyError extends Error {
  override readonly name = 'LifecyclePolicyError';
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_PATTERN_WILDCARDS = 4;

const fail = (message: string): never => {
  throw new LifecyclePolicyError(`Lifecycle policy validation failure: ${message}`);
};

/** Parse lifecycle policy text, throwing {@link LifecyclePolicyError} with ECR-style reasons. */
export function parseLifecyclePolicy(text: string): LifecyclePolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('the policy is not valid JSON.');
  }
  if (!isObject(doc)) return fail('the policy must be a JSON object.');
  onlyKeys(doc, ['rules'], 'the policy');
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) return fail("'rules' must be a non-empty array.");
  const rules = doc.rules.map((r, i) => parseRule(r, `rules[${i}]`));

  const priorities = new Set<number>();
  for (const rule of rules) {
    if (priorities.has(rule.rulePriority)) fail(`rulePriority ${rule.rulePriority} is used by more than one rule.`);
    priorities.add(rule.rulePriority);
  }
  const sorted = [...rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const anyIndex = sorted.findIndex((r) => r.selection.tagStatus === 'any');
  if (anyIndex !== -1 && anyIndex !== sorted.length - 1) {
    fail("a rule with tagStatus 'any' must have the highest rulePriority of all rules.");
  }
  if (sorted.filter((r) => r.selection.tagStatus === 'untagged').length > 1) fail("only one rule may select 'untagged' images.");
  return { rules: sorted };
}

function parseRule(value: unknown, at: string): LifecycleRule {
  if (!isObject(value)) return fail(`${at} must be an object.`);
  onlyKeys(value, ['rulePriority', 'description', 'selection', 'action'], at);
  const { rulePriority, description, selection, action } = value;
  if (!Number.isInteger(rulePriority) || (rulePriority as number) < 1) fail(`${at}.rulePriority must be an integer of at least 1.`);
  if (description !== undefined && typeof description !== 'string') fail(`${at}.description must be a string.`);
  if (!isObject(action)) return fail(`${at}.action is required.`);
  onlyKeys(action, ['type'], `${at}.action`);
  if (action.type !== 'expire') fail(`${at}.action.type must be 'expire'.`);
  if (!isObject(selection)) return fail(`${at}.selection is required.`);
  onlyKeys(selection, ['tagStatus', 'tagPrefixList', 'tagPatternList', 'countType', 'countUnit', 'countNumber'], `${at}.selection`);

  const s = selection;
  const where = `${at}.selection`;
  if (!tagStatuses.includes(s.tagStatus as LifecycleTagStatus)) fail(`${where}.tagStatus must be one of ${tagStatuses.join(', ')}.`);
  const tagStatus = s.tagStatus as LifecycleTagStatus;
  const prefixes = s.tagPrefixList === undefined ? undefined : stringList(s.tagPrefixList, `${where}.tagPrefixList`);
  const patterns = s.tagPatternList === undefined ? undefined : stringList(s.tagPatternList, `${where}.tagPatternList`);
  if (prefixes && patterns) fail(`${where} may have tagPrefixList or tagPatternList, not both.`);
  if (tagStatus === 'tagged' && !prefixes?.length && !patterns?.length) {
    fail(`${where}: tagStatus 'tagged' needs a non-empty tagPrefixList or tagPatternList.`);
  }
  if (tagStatus !== 'tagged' && (prefixes || patterns)) fail(`${where}: tagPrefixList and tagPatternList apply only to tagStatus 'tagged'.`);
  for (const p of patterns ?? []) {
    if ((p.match(/\*/g) ?? []).length > MAX_PATTERN_WILDCARDS) fail(`${where}.tagPatternList entry '${p}' has more than ${MAX_PATTERN_WILDCARDS} wildcards.`);
  }

  if (!countTypes.includes(s.countType as LifecycleCountType)) fail(`${where}.countType must be one of ${countTypes.join(', ')}.`);
  const countType = s.countType as LifecycleCountType;
  if (countType === 'sinceImagePushed' && s.countUnit !== 'days') fail(`${where}: countType 'sinceImagePushed' needs countUnit 'days'.`);
  if (countType === 'imageCountMoreThan' && s.countUnit !== undefined) fail(`${where}: countType 'imageCountMoreThan' takes no countUnit.`);
  if (!Number.isInteger(s.countNumber) || (s.countNumber as number) < 1) fail(`${where}.countNumber must be an integer of at least 1.`);

  return {
    rulePriority: rulePriority as number,
    ...(description !== undefined ? { description: description as string } : {}),
    selection: {
      tagStatus,
      ...(prefixes ? { tagPrefixList: prefixes } : {}),
      ...(patterns ? { tagPatternList: patterns } : {}),
      countType,
      ...(countType === 'sinceImagePushed' ? { countUnit: 'days' as const } : {}),
      countNumber: s.countNumber as number,
    },
    action: { type: 'expire' },
  };
}

/** The images `policy` expires at time `now` (ms), oldest first, each with the rule that expires it. */
export function evaluateLifecyclePolicy(policy: LifecyclePolicy, images: readonly LifecycleImage[], now: number): LifecycleVerdict[] {
  // Newest first; ties broken by digest so that evaluation is deterministic.
  const byAge = [...images].sort((a, b) => b.pushedAt - a.pushedAt || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const claimed = new Set<string>();
  const expired = new Map<string, LifecycleVerdict>();
  for (const rule of policy.rules) {
    const selected = byAge.filter((image) => selects(rule, image));
    const { countType, countNumber } = rule.selection;
    const candidates =
      countType === 'imageCountMoreThan'
        ? selected.slice(countNumber)
        : selected.filter((image) => now - image.pushedAt > countNumber * DAY_MS);
    for (const image of candidates) {
      if (!claimed.has(image.digest) && !expired.has(image.digest)) expired.set(image.digest, { image, rulePriority: rule.rulePriority });
    }
    for (const image of selected) claimed.add(image.digest);
  }
  return [...expired.values()].sort((a, b) => a.image.pushedAt - b.image.pushedAt);
}

function selects(rule: LifecycleRule, image: LifecycleImage): boolean {
  const { tagStatus, tagPrefixList, tagPatternList } = rule.selection;
  if (tagStatus === 'any') return true;
  if (tagStatus === 'untagged') return image.tags.length === 0;
  if (image.tags.length === 0) return false;
  if (tagPrefixList) return tagPrefixList.every((prefix) => image.tags.some((tag) => tag.startsWith(prefix)));
  return (tagPatternList ?? []).every((pattern) => image.tags.some((tag) => wildcardMatch(pattern, tag)));
}

/** `*` matches any run of characters (also none); everything else literally. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

function stringList(value: unknown, at: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    return fail(`${at} must be a list of non-empty strings.`);
  }
  return value as string[];
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], at: string): void {
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length) fail(`${at} has unknown properties: ${extra.join(', ')}.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
