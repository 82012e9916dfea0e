import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';

/**
 * Answers for requests Node's HTTP parser refuses before any route sees them (headers over the size limit,
 * malformed HTTP, a request that took too long to arrive), in the AWS JSON error shape: without this they
 * get Fastify's own body, which no AWS SDK can read an error name from.
 */

interface ClientRefusal {
  readonly status: number;
  readonly reason: string;
  readonly type: string;
  readonly message: string;
}

/** What to answer for one of Node's `clientError` codes. */
export function clientRefusal(code: string | undefined): ClientRefusal {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      // S3's name and words for the same condition (AWS's JSON APIs document none of their own).
      return {
        status: 400,
        reason: 'Bad Request',
        type: 'RequestHeaderSectionTooLarge',
        message: 'Your request header section exceeds the maximum allowed size.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', type: 'RequestTimeoutException', message: 'The request did not arrive in time.' };
    default:
      return { status: 400, reason: 'Bad Request', type: 'BadRequestException', message: 'The request is not valid HTTP/1.1.' };
  }
}

/** A Fastify `clientErrorHandler`: writes the refusal as a complete response and closes the connection. */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const { status, reason, type, message } = clientRefusal(error.code);
    const body = JSON.stringify({ __type: type, message });
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\n` +
        'Content-Type: application/x-amz-json-1.1\r\n' +
        `x-amzn-RequestId: ${randomUUID()}\r\n` +
        `x-amzn-ErrorType: ${type}:\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}
