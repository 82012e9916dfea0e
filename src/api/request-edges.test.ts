import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../testing/api-server.js';

const ECS = 'AmazonEC2ContainerServiceV20141113';
const LOGS = 'Logs_20140328';
let api: ApiFixture;
let port: number;
beforeAll(async () => {
  api = await startApiFixture();
  port = api.server.port;
});
afterAll(() => api.stop());

interface Exchange {
  /** The raw response, as far as it came. */
  readonly response: string;
  /** Whether the server closed the connection (within the deadline). */
  readonly closed: boolean;
  /** Body bytes written before the response began. */
  readonly sentBeforeAnswer: number;
}

/**
 * Writes `head` on a fresh connection, then `chunks` one at a time (each after the previous is flushed) until
 * the server answers; collects the answer until the server closes the connection or `deadlineMs` passes.
 */
function exchange(head: string, chunks: Iterable<Buffer> = [], deadlineMs = 5_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let answeredAt: number | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, closed, sentBeforeAnswer: answeredAt ?? sent });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.on('data', (d: Buffer) => {
      answeredAt ??= sent;
      response += d.toString('latin1');
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    const iterator = chunks[Symbol.iterator]();
    const writeNext = () => {
      if (answeredAt !== undefined || socket.destroyed) return;
      const next = iterator.next();
      if (next.done) return;
      sent += next.value.length;
      socket.write(next.value, () => setImmediate(writeNext));
    };
    socket.write(head, () => writeNext());
  });
}

function bodyOf(response: string): any {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
}

const MiB = 1024 * 1024;

describe('requests refused at the HTTP edge, in the AWS error shape', () => {
  it('answers headers over the size limit with an AWS error body and closes the connection', async () => {
    const { response, closed } = await exchange(
      `POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: ${ECS}.ListClusters\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(response).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
    expect(response).toMatch(/\r\nx-amzn-ErrorType: RequestHeaderSectionTooLarge:\r\n/);
    expect(response).toMatch(/\r\nx-amzn-RequestId: [0-9a-f-]{36}\r\n/);
    expect(bodyOf(response)).toEqual({ __type: 'RequestHeaderSectionTooLarge', message: 'Your request header section exceeds the maximum allowed size.' });
    expect(closed).toBe(true);
  });

  it('answers a request that is not HTTP with an AWS error body', async () => {
    const { response } = await exchange('NOT HTTP AT ALL\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
    expect(bodyOf(response).__type).toBe('BadRequestException');
  });

  it.each([
    ['ECS', `${ECS}.ListClusters`, MiB],
    ['CloudWatch Logs', `${LOGS}.PutLogEvents`, 8 * MiB],
    ['no API at all', 'Nothing.Here', MiB],
  ])('refuses an unsigned body declared over the %s limit from its Content-Length, before reading a byte of it', async (_api, target, limit) => {
    // Nothing of the body is ever sent: an answer at all proves the server did not wait for it.
    const { response, closed } = await exchange(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: ${target}\r\nContent-Length: ${limit + 1}\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1.1 413 /);
    expect(bodyOf(response)).toEqual({ __type: 'RequestEntityTooLargeException', message: 'Request body is too large.' });
    expect(response.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(closed).toBe(true);
  });

  it('refuses a chunked body as soon as it passes the limit, and closes the connection', async () => {
    const chunk = Buffer.concat([Buffer.from(`10000\r\n`), Buffer.alloc(0x10000, 0x20), Buffer.from('\r\n')]);
    // 64 MiB offered, 64 KiB at a time; the server must answer long before it is all sent.
    const chunks = (function* () {
      for (let i = 0; i < 1024; i++) yield chunk;
    })();
    const { response, closed, sentBeforeAnswer } = await exchange(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: ${ECS}.ListClusters\r\nTransfer-Encoding: chunked\r\n\r\n`,
      chunks,
      20_000,
    );
    expect(response).toMatch(/^HTTP\/1.1 413 /);
    expect(bodyOf(response).__type).toBe('RequestEntityTooLargeException');
    expect(closed).toBe(true);
    // ECS's 1 MiB and what the sockets' buffers hold on top (measured: 1.13 MiB), not the 64 MiB offered, nor
    // the 8 MiB of the largest limit of any API (Logs'), which is where the old reader stopped (8.1 MiB).
    expect(sentBeforeAnswer).toBeGreaterThan(MiB);
    expect(sentBeforeAnswer).toBeLessThan(4 * MiB);
  });

  it('still accepts a body up to each API its limit', async () => {
    const big = JSON.stringify({ logGroupName: 'edges', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'x'.repeat(2 * MiB) }] });
    const logs = await api.raw({ target: `${LOGS}.PutLogEvents`, service: 'logs', body: big });
    // Past the size check: the group does not exist.
    expect(logs.body.__type).toBe('ResourceNotFoundException');
    const ecs = await api.raw({ target: `${ECS}.ListClusters`, body: JSON.stringify({ nextToken: undefined, pad: 'x'.repeat(MiB - 20) }) });
    expect(ecs.status).toBe(200);
  });

  it('answers invalid UTF-8 inside a JSON body with SerializationException instead of replacing it', async () => {
    const body = Buffer.concat([Buffer.from('{"clusters":["a'), Buffer.from([0xff, 0xfe]), Buffer.from('"]}')]);
    const res = await api.raw({ target: `${ECS}.DescribeClusters`, body });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ __type: 'SerializationException', message: 'The request body is not valid UTF-8.' });
    // A lone surrogate half in UTF-8 (CESU) is not UTF-8 either.
    const cesu = Buffer.concat([Buffer.from('{"clusters":["'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"]}')]);
    expect((await api.raw({ target: `${ECS}.DescribeClusters`, body: cesu })).body.__type).toBe('SerializationException');
    const fine = await api.raw({ target: `${ECS}.DescribeClusters`, body: JSON.stringify({ clusters: ['é✓😀'] }) });
    expect(fine.status).toBe(200);
  });

  it('accepts a request target in absolute form, as sent through a proxy (RFC 9112 3.2.2), on the Node and the Fastify routes', async () => {
    const health = await exchange(`GET http://data-127.0.0.1:${port}/healthz HTTP/1.1\r\nHost: data-127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(health.response).toMatch(/^HTTP\/1\.1 200 /);
    // An unsigned JSON-RPC call in absolute form reaches the API (its own refusal), not a router's 400.
    const body = '{}';
    const rpc = await exchange(
      `POST http://data-127.0.0.1:${port}/ HTTP/1.1\r\nHost: data-127.0.0.1:${port}\r\nX-Amz-Target: ${ECS}.ListClusters\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(rpc.response).not.toContain('FST_ERR_BAD_URL');
    expect(rpc.response).toMatch(/MissingAuthenticationToken|UnrecognizedClient|IncompleteSignature|AccessDenied/);
  });
});
