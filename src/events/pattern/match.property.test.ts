import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesPattern } from './match.js';
import { parsePattern } from './pattern.js';

const match = (pattern: object, event: unknown) => matchesPattern(parsePattern(JSON.stringify(pattern)), event);

const scalar = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -50, max: 50 }), fc.boolean(), fc.constant(null));
const name = fc.constantFrom('a', 'b', 'c', 'detail', 'x-y');
const event = fc.dictionary(name, fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(name, scalar, { maxKeys: 3 })), { maxKeys: 4 });
const matcher = fc.oneof(
  scalar,
  fc.record({ prefix: fc.string({ maxLength: 2 }) }),
  fc.record({ suffix: fc.string({ maxLength: 2 }) }),
  fc.record({ 'equals-ignore-case': fc.string({ maxLength: 3 }) }),
  fc.record({ 'anything-but': fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -5, max: 5 })) }),
  fc.record({ numeric: fc.tuple(fc.constantFrom('<', '<=', '>', '>=', '='), fc.integer({ min: -50, max: 50 })) }),
  fc.record({ exists: fc.boolean() }),
);
const leafPattern = fc.tuple(name, fc.array(matcher, { minLength: 1, maxLength: 3 })).map(([n, ms]) => ({ [n]: ms }));

describe('event pattern properties', () => {
  it('a pattern naming an event field exactly matches the event', () => {
    fc.assert(
      fc.property(event, (e) => {
        for (const [key, value] of Object.entries(e)) {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) {
            const values = Array.isArray(value) ? value : [value];
            if (values.length > 0) expect(match({ [key]: values }, e)).toBe(true);
          }
        }
      }),
    );
  });

  it('exists true and exists false never both match, and one of them always does', () => {
    fc.assert(
      fc.property(event, name, (e, n) => {
        expect(match({ [n]: [{ exists: true }] }, e)).not.toBe(match({ [n]: [{ exists: false }] }, e));
      }),
    );
  });

  it('a leaf of several matchers is the union of the leaves of one', () => {
    fc.assert(
      fc.property(event, name, fc.array(matcher, { minLength: 1, maxLength: 3 }), (e, n, ms) => {
        expect(match({ [n]: ms }, e)).toBe(ms.some((m) => match({ [n]: [m] }, e)));
      }),
    );
  });

  it('$or is the union of its alternatives; fields are their intersection', () => {
    fc.assert(
      fc.property(event, leafPattern, leafPattern, (e, p, q) => {
        expect(match({ $or: [p, q] }, e)).toBe(match(p, e) || match(q, e));
        const [pk] = Object.keys(p);
        const [qk] = Object.keys(q);
        if (pk !== qk) expect(match({ ...p, ...q }, e)).toBe(match(p, e) && match(q, e));
      }),
    );
  });

  it('anything-but of a value is the complement of the value on a present string or number field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -5, max: 5 })), fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -5, max: 5 })), (v, x) => {
        expect(match({ a: [{ 'anything-but': x }] }, { a: v })).toBe(!match({ a: [x] }, { a: v }));
      }),
    );
  });

  it('a numeric range is the conjunction of its bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -20, max: 20 }), fc.integer({ min: 1, max: 20 }), (v, lo, width) => {
        const hi = lo + width;
        expect(match({ a: [{ numeric: ['>=', lo, '<', hi] }] }, { a: v })).toBe(v >= lo && v < hi);
      }),
    );
  });

  it('prefix and suffix agree with startsWith/endsWith; the ignore-case forms with lower case', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), fc.string({ maxLength: 3 }), (v, s) => {
        expect(match({ a: [{ prefix: s }] }, { a: v })).toBe(v.startsWith(s));
        expect(match({ a: [{ suffix: s }] }, { a: v })).toBe(v.endsWith(s));
        expect(match({ a: [{ prefix: { 'equals-ignore-case': s } }] }, { a: v })).toBe(v.toLowerCase().startsWith(s.toLowerCase()));
      }),
    );
  });

  it('a wildcard without stars is an exact match; "*" matches every string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }).filter((s) => !s.includes('*') && !s.includes('\\')), fc.string({ maxLength: 6 }), (w, v) => {
        expect(match({ a: [{ wildcard: w }] }, { a: v })).toBe(v === w);
        expect(match({ a: [{ wildcard: '*' }] }, { a: v })).toBe(true);
      }),
    );
  });

  it('an IPv4 address is in a /n block exactly when its first n bits agree', () => {
    const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    fc.assert(
      fc.property(octets, octets, fc.integer({ min: 0, max: 32 }), (a, b, bits) => {
        const num = (o: number[]) => o.reduce((acc, x) => acc * 256 + x, 0);
        const agree = bits === 0 || Math.floor(num(a) / 2 ** (32 - bits)) === Math.floor(num(b) / 2 ** (32 - bits));
        expect(match({ ip: [{ cidr: `${b.join('.')}/${bits}` }] }, { ip: a.join('.') })).toBe(agree);
      }),
    );
  });
});
