import { describe, expect, it } from 'vitest';
import { recordParser } from './codec.js';
import { ParsedCache } from './parsed-cache.js';

describe('ParsedCache', () => {
  it('parses a record once per mod revision, again when it changes, and forgets the oldest beyond its capacity', () => {
    let parses = 0;
    const parse = recordParser<{ n: number }>('thing', { n: 'number' });
    const cache = new ParsedCache((v: string, k: string) => {
      parses++;
      return parse(v, k);
    }, 2);
    const entry = (key: string, n: number, modRevision: number) => ({ key, value: JSON.stringify({ n }), createRevision: 1, modRevision, version: 1 });
    expect(cache.read(entry('a', 1, 5)).n).toBe(1);
    expect(cache.read(entry('a', 1, 5)).n).toBe(1);
    expect(parses).toBe(1);
    expect(cache.read(entry('a', 2, 6)).n).toBe(2);
    expect(parses).toBe(2);
    cache.read(entry('b', 1, 7));
    cache.read(entry('c', 1, 8));
    cache.read(entry('a', 2, 6));
    expect(parses).toBe(5);
  });

  it('hands out deeply frozen records: a caller cannot change what the others read', () => {
    const cache = new ParsedCache(recordParser<{ list: { n: number }[] }>('thing', { list: 'array' }));
    const record = cache.read({ key: 'k', value: JSON.stringify({ list: [{ n: 1 }] }), createRevision: 1, modRevision: 1, version: 1 });
    expect(() => {
      record.list[0]!.n = 2;
    }).toThrow(TypeError);
    expect(() => record.list.push({ n: 3 })).toThrow(TypeError);
    expect(record.list).toEqual([{ n: 1 }]);
  });
});
