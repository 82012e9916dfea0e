import { describe, expect, it } from 'vitest';
import { attachStages, moveStage } from './secret-stages.js';

const v = (stages: string[], createdDate = 1) => ({ stages, createdDate });

describe('staging labels', () => {
  it('a new current version takes AWSCURRENT; the old current becomes AWSPREVIOUS; the old previous is deprecated', () => {
    const out = attachStages({ a: v(['AWSPREVIOUS']), b: v(['AWSCURRENT']) }, 'c', ['AWSCURRENT'], 5);
    expect(out).toEqual({ a: v([]), b: v(['AWSPREVIOUS']), c: v(['AWSCURRENT'], 5) });
  });

  it('a version put with other labels leaves AWSCURRENT and AWSPREVIOUS alone, and takes its labels from whoever had them', () => {
    const out = attachStages({ a: v(['AWSPREVIOUS', 'blue']), b: v(['AWSCURRENT']) }, 'c', ['AWSPENDING', 'blue'], 5);
    expect(out).toEqual({ a: v(['AWSPREVIOUS']), b: v(['AWSCURRENT']), c: v(['AWSPENDING', 'blue'], 5) });
  });

  it('moving AWSCURRENT back to the previous version swaps the two', () => {
    const out = moveStage({ a: v(['AWSPREVIOUS']), b: v(['AWSCURRENT']) }, 'AWSCURRENT', 'b', 'a', 9);
    expect(out).toEqual({ a: v(['AWSCURRENT']), b: v(['AWSPREVIOUS']) });
  });

  it('refuses to move a label without naming the version that holds it, and to remove AWSCURRENT outright', () => {
    expect(() => moveStage({ a: v(['AWSCURRENT']), b: v([]) }, 'AWSCURRENT', undefined, 'b', 1)).toThrow(/RemoveFromVersionId can't be empty/);
    expect(() => moveStage({ a: v(['AWSCURRENT']) }, 'AWSCURRENT', 'a', undefined, 1)).toThrow(/can’t be completely removed/);
    expect(() => moveStage({ a: v(['x']), b: v([]) }, 'x', 'b', undefined, 1)).toThrow(/not attached to version b/);
  });

  it('removes a label from a version, and attaches a label nobody holds', () => {
    expect(moveStage({ a: v(['AWSCURRENT', 'x']) }, 'x', 'a', undefined, 1)).toEqual({ a: v(['AWSCURRENT']) });
    expect(moveStage({ a: v(['AWSCURRENT']), b: v([]) }, 'x', undefined, 'b', 1)).toEqual({ a: v(['AWSCURRENT']), b: v(['x']) });
  });
});
