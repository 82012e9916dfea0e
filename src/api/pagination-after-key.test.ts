import { describe, expect, it } from 'vitest';
import { pageAfterKey } from './pagination.js';

const invalid = () => new Error('bad marker');
const key = (s: string) => s;

describe('pageAfterKey (IAM and ELB Marker paging)', () => {
  it('pages a sorted list by the last key given, whatever changes between pages', () => {
    const first = pageAfterKey(['a', 'b', 'c', 'd'], key, undefined, 2, invalid);
    expect(first.items).toEqual(['a', 'b']);
    // 'b' is removed and 'bb' added before the next page: nothing repeats, nothing added after 'b' is hidden.
    const second = pageAfterKey(['a', 'bb', 'c', 'd'], key, first.next, 2, invalid);
    expect(second).toEqual({ items: ['bb', 'c'], next: expect.any(String) });
    expect(pageAfterKey(['a', 'bb', 'c', 'd'], key, second.next, 2, invalid)).toEqual({ items: ['d'] });
    expect(pageAfterKey(['a', 'b'], key, undefined, 2, invalid)).toEqual({ items: ['a', 'b'] });
  });

  it("refuses a marker it never gave with the API's own error", () => {
    for (const marker of ['', 'not-base64-json', Buffer.from('{"after":1}').toString('base64url')]) {
      expect(() => pageAfterKey(['a'], key, marker, 2, invalid), marker).toThrow('bad marker');
    }
  });
});
