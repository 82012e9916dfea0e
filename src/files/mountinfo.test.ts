import { describe, expect, it } from 'vitest';
import { decodeMountPath } from './mountinfo.js';

describe('mountinfo paths', () => {
  it("decode the kernel's octal escapes (space, backslash) and leave the rest", () => {
    expect(decodeMountPath('/x\\040y\\134z')).toBe('/x y\\z');
    expect(decodeMountPath('/plain/path')).toBe('/plain/path');
  });
});
