import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyBuffers } from './body-buffers.js';
import { ResponseWriter, type AnswerBody } from './response-body.js';

/** A real HTTP server whose next answer is whatever `answer` does with the response. */
let answer: (res: ServerResponse) => void = (res) => res.end();
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => answer(res));
  // The client keeps its connection between checks that may take seconds on a busy machine.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** What a client receives when `writer` sends `body`. */
async function received(writer: ResponseWriter, body: AnswerBody | undefined, after?: () => void) {
  answer = (res) => {
    writer.send(res, 200, { 'content-type': 'text/plain' }, body);
    after?.();
  };
  const res = await fetch(url);
  return { length: res.headers.get('content-length'), chunked: res.headers.get('transfer-encoding'), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A BodyBuffers that records what it lends and gets back. */
function recording() {
  const memory = new BodyBuffers(4, 8 * 1024 * 1024);
  const taken: Buffer[] = [];
  const given: Buffer[] = [];
  const take = memory.take.bind(memory);
  const give = memory.give.bind(memory);
  memory.take = (length) => {
    const b = take(length);
    taken.push(b);
    return b;
  };
  memory.give = (b) => {
    given.push(b);
    give(b);
  };
  return { memory, taken, given };
}

/** Waits (at most 5 s) for `condition`: the memory comes back when the server sees the write done, maybe after the client read it all. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ResponseWriter', () => {
  it('writes small answers as they are, with their length in bytes', async () => {
    const { memory, taken } = recording();
    const writer = new ResponseWriter(memory);
    const text = '{"é":"😀"}';
    expect(await received(writer, text)).toEqual({ length: String(Buffer.byteLength(text)), chunked: null, bytes: Buffer.from(text) });
    expect(await received(writer, undefined)).toEqual({ length: '0', chunked: null, bytes: Buffer.alloc(0) });
    // Pieces of a small answer: joined and written the same way.
    expect(await received(writer, ['{"é":', '[1,2]', '}'])).toEqual({ length: String(Buffer.byteLength('{"é":[1,2]}')), chunked: null, bytes: Buffer.from('{"é":[1,2]}') });
    expect(taken).toHaveLength(0);
  });

  it('writes pieces as their text joined, with a Content-Length, from memory it lends again once written', async () => {
    const { memory, taken, given } = recording();
    const writer = new ResponseWriter(memory);
    const list = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => 1_700_000_000 + i));
    // Text of 1, 2, 3 and 4 bytes a character (a lone surrogate written as U+FFFD).
    const pieces = ['{"Results":[{"é":', list, '},{"T":', list, '}],"😀":', JSON.stringify('x'.repeat(70_000)), ',"€\ud800":1}'];
    const text = pieces.join('');
    const first = await received(writer, pieces);
    expect({ ...first, bytes: undefined }).toEqual({ length: String(Buffer.byteLength(text)), chunked: null, bytes: undefined });
    expect(first.bytes.equals(Buffer.from(text))).toBe(true);
    expect(JSON.parse(first.bytes.toString())).toEqual(JSON.parse(Buffer.from(text).toString()));
    await until(() => given.length === 1);
    // A long string is written the same way.
    expect((await received(writer, text)).bytes.equals(Buffer.from(text))).toBe(true);
    expect(taken).toHaveLength(2);
    await until(() => given.length === 2);
    expect(given.map((b) => b.buffer)).toEqual(taken.map((b) => b.buffer));
    expect(taken[1]!.buffer).toBe(taken[0]!.buffer);
  });

  it('copies bytes before the caller reuses their memory (an encoder writing its next answer there)', async () => {
    const writer = new ResponseWriter();
    for (const size of [100, 300_000]) {
      const bytes = Buffer.alloc(size, 7);
      const got = await received(writer, bytes, () => bytes.fill(9));
      expect(got.length).toBe(String(size));
      expect(got.bytes.equals(Buffer.alloc(size, 7))).toBe(true);
    }
  });

  it('writes an answer larger than the memory it keeps from memory of its own, not kept', async () => {
    const { memory, taken, given } = recording();
    const writer = new ResponseWriter(memory);
    // 3 Mi characters: room for the worst case, 3 bytes each, is over the 8 MiB kept.
    const big = 'y'.repeat(3 * 1024 * 1024);
    expect((await received(writer, [big, 'z'])).bytes.length).toBe(big.length + 1);
    expect(taken[0]!.buffer.byteLength).toBeGreaterThan(8 * 1024 * 1024);
    // Given back, but not kept: the next answer of that size gets memory of its own again.
    await until(() => given.length === 1);
    expect((await received(writer, [big, 'z'])).bytes.length).toBe(big.length + 1);
    expect(taken[1]!.buffer).not.toBe(taken[0]!.buffer);
  });
});
