import type { ServerResponse } from 'node:http';
import { BodyBuffers } from './body-buffers.js';

/**
 * An answer's body as a protocol handler hands it over: text (JSON, XML), text in pieces written one after the other
 * (ShapeSerializer.serializePieces), or bytes (CBOR) that may be memory the encoder reuses for its next answer.
 */
export type AnswerBody = string | readonly string[] | Uint8Array;

/**
 * Writes answers for the JSON, RPC v2 CBOR and Query handlers: one place that decides how a body reaches the socket.
 *
 * A small answer is written as it is: a string goes out with the head in one write. A large one (a GetMetricData of
 * 144,000 datapoints: 2 MB of JSON, 1.2 MB of CBOR) is copied into memory reused from one answer to the next and
 * written from there, with its Content-Length. Why: written as one string, the string was first flattened into a
 * fresh copy (Buffer.byteLength of a tree of concatenations) and then encoded by the socket's writev into fresh memory
 * again; on berth's VM every page of a fresh allocation is faulted in from the kernel (body-buffers.ts), and the
 * young generation's collector copied the strings meanwhile. The memory goes back when the answer has been handed to
 * the kernel (the `end` callback), or is simply collected if the client goes away first.
 */
export class ResponseWriter {
  constructor(private readonly memory = new BodyBuffers(4, MAX_POOLED_ANSWER)) {}

  /** Write the head (`headers` gets the Content-Length) and `body` (none: an empty body). */
  send(res: ServerResponse, status: number, headers: Record<string, string | number>, body: AnswerBody | undefined): void {
    if (body === undefined) {
      headers['content-length'] = 0;
      res.writeHead(status, headers).end();
      return;
    }
    // Pieces of a small answer (GetMetricData's 1,440 datapoints of a SUM) joined: one string, written with the head.
    if (Array.isArray(body) && unitsOf(body) < LARGE) body = body.join('');
    if (typeof body === 'string' && body.length < LARGE) {
      headers['content-length'] = Buffer.byteLength(body);
      res.writeHead(status, headers).end(body);
      return;
    }
    if (body instanceof Uint8Array && body.length < LARGE) {
      // Copied: the encoder's memory is overwritten by its next answer, perhaps before this one has left.
      headers['content-length'] = body.length;
      res.writeHead(status, headers).end(Buffer.from(body));
      return;
    }
    const bytes = this.copy(body);
    headers['content-length'] = bytes.length;
    res.writeHead(status, headers).end(bytes, () => this.memory.give(bytes));
  }

  /** `body` in memory of this writer's. */
  private copy(body: AnswerBody): Buffer {
    if (body instanceof Uint8Array) {
      const bytes = this.memory.take(body.length);
      bytes.set(body);
      return bytes;
    }
    const pieces = typeof body === 'string' ? [body] : body;
    // Room for the worst case (3 bytes of UTF-8 per UTF-16 unit) rather than a pass over the text for its exact length:
    // memory past what is written is never touched, so it costs address space, not pages.
    const room = this.memory.take(unitsOf(pieces) * MAX_UTF8_PER_UNIT);
    let at = 0;
    for (const piece of pieces) at += room.write(piece, at);
    return room.subarray(0, at);
  }
}

/** The UTF-16 code units of all `pieces`. */
function unitsOf(pieces: readonly string[]): number {
  let units = 0;
  for (const piece of pieces) units += piece.length;
  return units;
}

/** The most bytes of UTF-8 one UTF-16 code unit takes (a surrogate pair: 4 bytes for 2 units). */
const MAX_UTF8_PER_UNIT = 3;
/** Bodies from this length (characters or bytes) are copied into reused memory. */
const LARGE = 64 * 1024;
/**
 * Memory up to this size is kept for later answers (4 of each size class at most): text answers of up to ~2.8 million
 * characters, given the worst case's room; larger ones are written from fresh memory.
 */
const MAX_POOLED_ANSWER = 8 * 1024 * 1024;
