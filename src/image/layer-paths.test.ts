import { describe, expect, it } from 'vitest';
import { UnsafeLayerPathError, ancestorsOf, classifyWhiteout, normalizeEntryPath, normalizeHardlinkTarget } from './layer-paths.js';

describe('layer entry paths', () => {
  it('normalise to layer-relative paths', () => {
    expect(normalizeEntryPath('./etc/passwd')).toBe('etc/passwd');
    expect(normalizeEntryPath('/abs//dir/')).toBe('abs/dir');
    expect(normalizeEntryPath('./')).toBe('');
    expect(normalizeEntryPath('a/./b')).toBe('a/b');
  });

  it('refuse any way out of the layer', () => {
    for (const p of ['../x', 'a/../../x', 'a/..', '/../etc']) expect(() => normalizeEntryPath(p)).toThrow(UnsafeLayerPathError);
    expect(() => normalizeHardlinkTarget('../../etc/shadow')).toThrow(/escapes the layer directory/);
    expect(() => normalizeHardlinkTarget('./')).toThrow(/layer root/);
  });

  it('classify whiteouts', () => {
    expect(classifyWhiteout('etc/.wh.passwd')).toEqual({ kind: 'whiteout', path: 'etc/passwd' });
    expect(classifyWhiteout('.wh.top')).toEqual({ kind: 'whiteout', path: 'top' });
    expect(classifyWhiteout('var/.wh..wh..opq')).toEqual({ kind: 'opaque', dir: 'var' });
    expect(classifyWhiteout('.wh..wh..opq')).toEqual({ kind: 'opaque', dir: '' });
    expect(classifyWhiteout('.wh..wh.plnk/123')).toBeUndefined();
    expect(classifyWhiteout('.wh..wh.plnk')).toEqual({ kind: 'ignored' });
    expect(classifyWhiteout('etc/passwd.wh.x')).toBeUndefined();
    expect(() => classifyWhiteout('a/.wh.')).toThrow(UnsafeLayerPathError);
  });

  it('list ancestors outermost first', () => {
    expect(ancestorsOf('a/b/c')).toEqual(['a', 'a/b']);
    expect(ancestorsOf('a')).toEqual([]);
  });
});
