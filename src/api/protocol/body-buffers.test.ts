import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyBuffers } from './body-buffers.js';
import { readBody } from './request-body.js';

describe('BodyBuffers', () => {
  it('lends memory given back to the next body of its size class, and only what it lent', () => {
    const buffers = new BodyBuffers();
    const first = buffers.take(100_000);
    expect(first.length).toBe(100_000);
    buffers.give(first);
    const second = buffers.take(70_000);
    expect(second.length).toBe(70_000);
    expect(second.buffer).toBe(first.buffer);
    // Not lent now: the same memory is not handed out twice.
    expect(buffers.take(100_000).buffer).not.toBe(first.buffer);
    buffers.give(Buffer.alloc(100_000));
    buffers.give(second);
    buffers.give(second);
    const a = buffers.take(100_000);
    const b = buffers.take(100_000);
    expect(a.buffer).toBe(first.buffer);
    expect(b.buffer).not.toBe(first.buffer);
  });

  it('pools bodies from 16 KiB to 2 MiB', () => {
    expect(BodyBuffers.pooled(16 * 1024 - 1)).toBe(false);
    expect(BodyBuffers.pooled(16 * 1024)).toBe(true);
    expect(BodyBuffers.pooled(2 * 1024 * 1024)).toBe(true);
    expect(BodyBuffers.pooled(2 * 1024 * 1024 + 1)).toBe(false);
  });
});

describe('readBody into reused memory', () => {
  const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));

  it('copies the chunks in order into a lent buffer of the declared length', async () => {
    const buffers = new BodyBuffers();
    const stream = new PassThrough();
    const read = readBody(stream, 1 << 20, String(body.length), buffers);
    for (let at = 0; at < body.length; at += 7_000) stream.write(body.subarray(at, at + 7_000));
    stream.end();
    const got = await read;
    expect(got.equals(body)).toBe(true);
    buffers.give(got);
    // The next body of that size reads into the same memory.
    const again = new PassThrough();
    const next = readBody(again, 1 << 20, String(body.length), buffers);
    again.end(Buffer.alloc(body.length, 7));
    const reused = await next;
    expect(reused.buffer).toBe(got.buffer);
    expect(reused.every((b) => b === 7)).toBe(true);
  });

  it('refuses a body longer than its Content-Length and a Content-Length over the limit', async () => {
    const buffers = new BodyBuffers();
    const stream = new PassThrough();
    const read = readBody(stream, 1 << 20, String(body.length - 1), buffers);
    stream.end(body);
    await expect(read).rejects.toMatchObject({ type: 'SerializationException' });
    await expect(readBody(new PassThrough(), 1000, '20000', buffers)).rejects.toMatchObject({ type: 'RequestEntityTooLargeException' });
  });

  it('reads a body without Content-Length (chunked) as before, held to the limit', async () => {
    const buffers = new BodyBuffers();
    const stream = new PassThrough();
    const read = readBody(stream, 1 << 20, undefined, buffers);
    stream.write(body.subarray(0, 20_000));
    stream.end(body.subarray(20_000));
    expect((await read).equals(body)).toBe(true);
    const small = new PassThrough();
    const refused = readBody(small, 10_000, undefined, buffers);
    small.end(body);
    await expect(refused).rejects.toMatchObject({ type: 'RequestEntityTooLargeException' });
  });
});
