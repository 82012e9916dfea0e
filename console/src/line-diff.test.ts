import { describe, expect, it } from 'vitest';
import { lineDiff } from './line-diff.js';

describe('lineDiff', () => {
  it('keeps common lines and marks what was removed and added, in order', () => {
    expect(lineDiff('a\nb\nc\nd', 'a\nc\nx\nd\ne')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'x' },
      { kind: 'same', text: 'd' },
      { kind: 'added', text: 'e' },
    ]);
  });
  it('shows a changed value as the old line removed and the new one added', () => {
    const before = JSON.stringify({ family: 'web', memory: 32, image: 'a' }, null, 2);
    const after = JSON.stringify({ family: 'web', memory: 64, image: 'a' }, null, 2);
    const changed = lineDiff(before, after).filter((l) => l.kind !== 'same');
    expect(changed).toEqual([
      { kind: 'removed', text: '  "memory": 32,' },
      { kind: 'added', text: '  "memory": 64,' },
    ]);
  });
  it('handles identical and empty texts', () => {
    expect(lineDiff('a\nb', 'a\nb').every((l) => l.kind === 'same')).toBe(true);
    expect(lineDiff('', 'x')).toEqual([
      { kind: 'removed', text: '' },
      { kind: 'added', text: 'x' },
    ]);
  });
});
