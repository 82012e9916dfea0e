import { describe, expect, it } from 'vitest';
import { unicodePattern } from './json-schema.js';

describe('model patterns in Unicode mode', () => {
  it("drops Java's needless escapes of punctuation, and leaves valid patterns alone", () => {
    const secretsManagerTagValue = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$';
    expect(unicodePattern(secretsManagerTagValue)).toBe(secretsManagerTagValue);
    const filter = '^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$';
    const fixed = unicodePattern(filter);
    expect(() => new RegExp(fixed, 'u')).not.toThrow();
    expect(new RegExp(fixed, 'u').test('!tag=x.y-z')).toBe(true);
    expect(new RegExp(fixed, 'u').test('#')).toBe(false);
  });

  it("keeps a Java lookaround's quantifier from breaking the pattern (EFS's access point path)", () => {
    const efsPath = '^(\\/|(\\/(?!\\.)+[^$#<>;`|&?{}^*/\\n]+){1,4})$';
    const fixed = new RegExp(unicodePattern(efsPath), 'u');
    expect(fixed.test('/app')).toBe(true);
    expect(fixed.test('/a/b')).toBe(true);
    expect(fixed.test('/.hidden')).toBe(false);
    expect(fixed.test('app')).toBe(false);
  });
});
