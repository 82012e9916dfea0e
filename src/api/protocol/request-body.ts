import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { ServiceError } from '../../model/errors.js';
import { BodyBuffers } from './body-buffers.js';

const tooLarge = () => new ServiceError('RequestEntityTooLargeException', 'Request body is too large.');

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over the limit is refused before
 * a byte is read, and a body without one (chunked) as soon as it passes the limit: the request is not
 * authenticated yet (the signature covers the body), so anyone could otherwise make the server hold it.
 *
 * With `buffers`, a large body of known length is copied chunk by chunk into reused memory (see body-buffers.ts);
 * the caller gives it back once it has decoded it.
 */
export function readBody(stream: Readable, limit: number, contentLength: string | undefined, buffers?: BodyBuffers): Promise<Buffer> {
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge());
  const into = buffers && declared !== undefined && Number.isInteger(declared) && BodyBuffers.pooled(declared) ? buffers.take(declared) : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (error?: Error) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (error) {
        if (into) buffers!.give(into);
        // Stop reading what is left; the answer closes the connection (sendError), so it is never read.
        stream.pause();
        reject(error);
      } else if (into) {
        resolve(length === into.length ? into : into.subarray(0, length));
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
      }
    };
    const onData = (chunk: Buffer) => {
      if (into) {
        // Node's parser stops a body at its Content-Length; more would be a bug, refused rather than overrun.
        if (length + chunk.length > into.length) return done(new ServiceError('SerializationException', 'The request body is longer than its Content-Length.'));
        chunk.copy(into, length);
        length += chunk.length;
        return undefined;
      }
      length += chunk.length;
      if (length > limit) done(tooLarge());
      else chunks.push(chunk);
      return undefined;
    };
    const onEnd = () => done();
    // A client that hangs up mid-body: nobody will read the answer, but the request must end.
    const onError = (error: Error) => done(new ServiceError('SerializationException', 'The request body could not be read.', { cause: error }));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/**
 * The body as text, refusing bytes that are not UTF-8: `Buffer.toString` would replace them with U+FFFD
 * and the operation would store something other than what the client sent. (A byte-order mark stays in the
 * text, and JSON.parse refuses it.)
 */
export function decodeUtf8(body: Buffer): string {
  if (!isUtf8(body)) throw new ServiceError('SerializationException', 'The request body is not valid UTF-8.');
  return body.toString('utf8');
}

/**
 * The body as sent before its Content-Encoding: SDKs gzip large requests of the operations whose model asks for
 * it (CloudWatch's PutMetricData, over 10 KiB). The signature covers the compressed bytes, so this runs after
 * verification; the decompressed body is held to the same `limit` (a small bomb cannot become a large body).
 */
export function decodedBody(body: Buffer, encoding: string | string[] | undefined, limit: number): Buffer {
  const value = (Array.isArray(encoding) ? encoding.join(',') : (encoding ?? '')).trim().toLowerCase();
  if (value === '' || value === 'identity') return body;
  if (value !== 'gzip') throw new ServiceError('SerializationException', `Content-Encoding ${value} is not supported; gzip is.`);
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new ServiceError('SerializationException', 'The request body is not valid gzip.', { cause: error });
  }
}
