import { describe, expect, it } from 'vitest';
import { matchesPattern, parseFilterPattern } from './filter-pattern.js';

const match = (pattern: string, message: string) => matchesPattern(parseFilterPattern(pattern), message);

describe('filter patterns', () => {
  it('matches everything when empty or blank', () => {
    expect(match('', 'anything')).toBe(true);
    expect(match('   ', 'anything')).toBe(true);
  });

  it('needs every plain term, case-sensitively', () => {
    expect(match('ERROR db', 'ERROR: db down')).toBe(true);
    expect(match('ERROR db', 'ERROR: cache down')).toBe(false);
    expect(match('error', 'ERROR: db down')).toBe(false);
  });

  it('keeps quoted phrases whole, with escaped quotes', () => {
    expect(parseFilterPattern('"connection refused" port')).toEqual({ required: ['connection refused', 'port'], optional: [], excluded: [] });
    expect(match('"connection refused"', 'dial: connection refused')).toBe(true);
    expect(match('"connection refused"', 'refused connection')).toBe(false);
    expect(match('"say \\"hi\\""', 'they say "hi" to all')).toBe(true);
  });

  it('accepts any one ?-term, and excludes -terms', () => {
    expect(match('?ERROR ?WARN', 'WARN low disk')).toBe(true);
    expect(match('?ERROR ?WARN', 'INFO fine')).toBe(false);
    expect(match('ERROR -timeout', 'ERROR: timeout')).toBe(false);
    expect(match('ERROR -timeout', 'ERROR: refused')).toBe(true);
    expect(match('?"a b" ?c', 'xx a b yy')).toBe(true);
  });

  it('reads a lone ? or - as a term', () => {
    expect(parseFilterPattern('- ?')).toEqual({ required: ['-', '?'], optional: [], excluded: [] });
  });

  it('refuses unclosed quotes and the pattern kinds it does not implement', () => {
    for (const p of ['"open', '{ $.level = "error" }', '[ip, user, status]', '%ERR.*%']) {
      expect(() => parseFilterPattern(p), p).toThrow(expect.objectContaining({ type: 'InvalidParameterException' }));
    }
  });
});
