import { describe, expect, it } from 'vitest';
import { randomPassword } from './random-password.js';

describe('GetRandomPassword', () => {
  it('is 32 characters of every class by default, one of each at least', () => {
    for (let i = 0; i < 50; i++) {
      const pw = randomPassword({});
      expect(pw).toHaveLength(32);
      for (const cls of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/]) expect(pw).toMatch(cls);
    }
  });

  it('honours exclusions, spaces and the length bounds', () => {
    expect(randomPassword({ PasswordLength: 200, ExcludeCharacters: 'abc', ExcludeUppercase: true, ExcludePunctuation: true })).toMatch(/^[d-z0-9]{200}$/);
    expect(randomPassword({ PasswordLength: 100, ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true, IncludeSpace: true })).toBe(' '.repeat(100));
    expect(() => randomPassword({ PasswordLength: 0 })).toThrow(/between 1 and 4096/);
    expect(() => randomPassword({ PasswordLength: 2 })).toThrow(/too short/);
    expect(() => randomPassword({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true })).toThrow(/excluded/);
  });
});
