import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ImageCleanup } from './image-cleanup.js';
import { FakeImages } from './testing/fakes.js';

describe('image cleanup', () => {
  it('removes images that no task uses and that were not used recently, and keeps the others', async () => {
    const images = new FakeImages();
    images.add('in-use', undefined, 'sha256:in-use');
    images.add('recent', undefined, 'sha256:recent');
    images.add('old', undefined, 'sha256:old');
    let now = 0;
    const cleanup = new ImageCleanup(images, () => ['sha256:in-use'], pino({ level: 'silent' }), {
      intervalMs: 1_000,
      minimumAgeMs: 60_000,
      now: () => now,
    });
    const tracked = cleanup.tracked();
    await tracked.pull('old');
    await tracked.pull('in-use');
    now = 120_000;
    await tracked.pull('recent');
    now = 150_000;
    expect(await cleanup.run()).toEqual(['sha256:old']);
    expect([...images.cached.keys()].sort()).toEqual(['in-use', 'recent']);
    now = 500_000;
    expect(await cleanup.run()).toEqual(['sha256:recent']);
    expect([...images.cached.keys()]).toEqual(['in-use']);
  });
});
