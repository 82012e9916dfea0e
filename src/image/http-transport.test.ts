import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTimeoutError, HttpTransport } from './http-transport.js';

describe('HttpTransport', () => {
  let server: Server | undefined;
  let transport: HttpTransport | undefined;
  afterEach(async () => {
    await transport?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
  });

  const listen = async (handler: (body: string, res: ServerResponse, headers: Record<string, unknown>, method: string) => void): Promise<string> => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => handler(body, res, req.headers, req.method ?? ''));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  it('sends the method, headers and body, and answers status, lower-case headers and the body as a stream', async () => {
    const base = await listen((body, res, headers, method) => {
      res.writeHead(201, { 'X-Echo': `${method} ${String(headers['x-in'])} ${body}` });
      res.end('done');
    });
    transport = new HttpTransport();
    const res = await transport.request(`${base}/p`, { method: 'POST', headers: { 'x-in': 'v' }, body: 'a=1' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-echo']).toBe('POST v a=1');
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('done');
  });

  it('dump() discards a body so that the connection serves the next request', async () => {
    let connections = 0;
    const base = await listen((_, res) => res.end('x'.repeat(100_000)));
    server!.on('connection', () => connections++);
    transport = new HttpTransport();
    for (let i = 0; i < 3; i++) await (await transport.request(`${base}/`)).body.dump();
    expect(connections).toBe(1);
  });

  it('gives up on a server that sends nothing, naming the timeout', async () => {
    const base = await listen(() => undefined);
    transport = new HttpTransport({ timeouts: { connectMs: 5_000, idleMs: 200 } });
    const error = await transport.request(`${base}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect((error as HttpTimeoutError).code).toBe('IDLE_TIMEOUT');
  });

  it('stops at the abort signal, and refuses protocols other than http and https', async () => {
    const base = await listen(() => undefined);
    transport = new HttpTransport();
    const aborted = new AbortController();
    const pending = transport.request(`${base}/`, { signal: aborted.signal });
    aborted.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(transport.request('ftp://127.0.0.1/')).rejects.toThrow(/unsupported protocol ftp:/);
  });
});
