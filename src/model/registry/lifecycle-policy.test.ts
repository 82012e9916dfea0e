import { describe, expect, it } from 'vitest';
import { evaluateLifecyclePolicy, LifecyclePolicyError, parseLifecyclePolicy, wildcardMatch, type LifecycleImage } from './lifecycle-policy.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_800_000_000_000;
const policy = (...rules: object[]) => JSON.stringify({ rules });
const rule = (rulePriority: number, selection: object) => ({ rulePriority, selection, action: { type: 'expire' } });
const image = (digest: string, ageDays: number, ...tags: string[]): LifecycleImage => ({ digest, tags, pushedAt: NOW - ageDays * DAY });
const expired = (text: string, images: LifecycleImage[]) =>
  evaluateLifecyclePolicy(parseLifecyclePolicy(text), images, NOW).map((v) => `${v.image.digest}@${v.rulePriority}`);

describe('parseLifecyclePolicy', () => {
  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['no rules', '{"rules":[]}', /non-empty array/],
    ['unknown property', policy({ ...rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }), extra: 1 }), /unknown properties: extra/],
    ['duplicate priority', policy(rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }), rule(1, { tagStatus: 'tagged', tagPrefixList: ['a'], countType: 'imageCountMoreThan', countNumber: 1 })), /rulePriority 1 is used by more than one rule/],
    ['tagged without prefixes', policy(rule(1, { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 })), /needs a non-empty tagPrefixList or tagPatternList/],
    ['prefixes on untagged', policy(rule(1, { tagStatus: 'untagged', tagPrefixList: ['a'], countType: 'imageCountMoreThan', countNumber: 1 })), /apply only to tagStatus 'tagged'/],
    ['both lists', policy(rule(1, { tagStatus: 'tagged', tagPrefixList: ['a'], tagPatternList: ['a*'], countType: 'imageCountMoreThan', countNumber: 1 })), /not both/],
    ['days without unit', policy(rule(1, { tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 1 })), /needs countUnit 'days'/],
    ['unit on a count', policy(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countUnit: 'days', countNumber: 1 })), /takes no countUnit/],
    ['zero count', policy(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 0 })), /countNumber must be an integer of at least 1/],
    ['any not last', policy(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }), rule(2, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 })), /'any' must have the highest rulePriority/],
    ['bad action', policy({ ...rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }), action: { type: 'delete' } }), /action.type must be 'expire'/],
    ['unknown count type', policy(rule(1, { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 1 })), /countType must be one of/],
  ])('refuses %s', (_label, text, message) => {
    expect(() => parseLifecyclePolicy(text)).toThrow(LifecyclePolicyError);
    expect(() => parseLifecyclePolicy(text)).toThrow(message);
  });

  it('accepts a valid policy and orders its rules by priority', () => {
    const parsed = parseLifecyclePolicy(
      policy(rule(10, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }), rule(2, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })),
    );
    expect(parsed.rules.map((r) => r.rulePriority)).toEqual([2, 10]);
  });
});

describe('evaluateLifecyclePolicy', () => {
  it('keeps the newest n of a selection and expires the rest, oldest first', () => {
    const images = [image('a', 1, 'x'), image('b', 5, 'y'), image('c', 3), image('d', 9)];
    expect(expired(policy(rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 })), images)).toEqual(['d@1', 'b@1']);
  });

  it('expires selected images older than the given days', () => {
    const images = [image('fresh', 2), image('stale', 20), image('tagged-stale', 30, 'v1')];
    expect(expired(policy(rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 })), images)).toEqual(['stale@1']);
  });

  it('lets a higher-priority rule protect what it selects from lower rules', () => {
    const images = [image('p1', 1, 'prod-1'), image('p2', 40, 'prod-2'), image('t', 40, 'test-1'), image('u', 50)];
    const text = policy(
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 5 }),
      rule(2, { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }),
    );
    // p2 is old, but rule 1 selected (and kept) it, so rule 2 cannot expire it.
    expect(expired(text, images)).toEqual(['u@2', 't@2']);
  });

  it('counts images a higher rule expired when applying a count', () => {
    const images = [image('n1', 1, 'v3'), image('u', 15), image('n2', 20, 'v2'), image('n3', 30, 'v1')];
    const text = policy(
      rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 10 }),
      rule(2, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 2 }),
    );
    // Rule 2 keeps two images counting u, which rule 1 already expired: n2 and n3 go too.
    expect(expired(text, images)).toEqual(['n3@2', 'n2@2', 'u@1']);
  });

  it('requires every prefix or pattern to match some tag', () => {
    const images = [image('both', 3, 'prod', 'release-1'), image('one', 2, 'prod'), image('none', 1, 'dev')];
    expect(expired(policy(rule(1, { tagStatus: 'tagged', tagPrefixList: ['prod', 'release'], countType: 'imageCountMoreThan', countNumber: 1 })), images)).toEqual([]);
    expect(expired(policy(rule(1, { tagStatus: 'tagged', tagPatternList: ['prod', 'rel*-?'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })), images)).toEqual([]);
    expect(expired(policy(rule(1, { tagStatus: 'tagged', tagPatternList: ['p*d'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 })), images)).toEqual(['both@1', 'one@1']);
  });

  it('matches wildcards literally apart from *', () => {
    expect(wildcardMatch('v1.*', 'v1.2')).toBe(true);
    expect(wildcardMatch('v1.*', 'v1x2')).toBe(false);
    expect(wildcardMatch('*-rc*', '2.0-rc1')).toBe(true);
    expect(wildcardMatch('prod', 'production')).toBe(false);
  });
});
