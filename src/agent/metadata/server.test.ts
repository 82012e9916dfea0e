import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runningTask, tokenFor } from '../testing/task-states.js';
import { MetadataListenError } from './errors.js';
import { MetadataHandler } from './handler.js';
import { redactPath, startMetadataServer, type RunningMetadataServer } from './server.js';

/** A logger whose lines the test can read. */
function capturedLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), text: () => lines.join('') };
}

const servers: RunningMetadataServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

// Host-mode tasks: the test asks from 127.0.0.1, an address of no container, as a host-mode container would.
const task = runningTask('srv1', { networkMode: 'host' });
const token = task.containers[0]!.metadataToken!;

async function start(options: { handler?: MetadataHandler; rateLimit?: { perSecond: number; burst: number }; port?: number } = {}) {
  const captured = capturedLog();
  const handler =
    options.handler ??
    new MetadataHandler({ source: { tasks: () => [task] }, clusterName: 'default', availabilityZone: 'us-east-1a', containerInstanceArn: 'arn:ci' });
  const server = await startMetadataServer({
    address: { host: '127.0.0.1', port: options.port ?? 0 },
    handler,
    log: captured.log,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
  });
  servers.push(server);
  return { server, ...captured };
}

describe('the task metadata HTTP server', () => {
  it('answers JSON on a port of its own choosing and names its URL with the port', async () => {
    const { server } = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.address.port}`);
    const res = await fetch(`${server.url}/v4/${token}/task`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ TaskARN: task.arn, Containers: [{ DockerId: 'srv1-app' }] });
    const head = await fetch(`${server.url}/v4/${token}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('404s an unknown token with a JSON string, and refuses other methods', async () => {
    const { server } = await start();
    const res = await fetch(`${server.url}/v4/${tokenFor('nobody')}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toBe('V4 container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID');
    const post = await fetch(`${server.url}/v4/${token}/task`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('never logs a token in full', async () => {
    const { server, text } = await start();
    await fetch(`${server.url}/v4/${token}/task`);
    await fetch(`${server.url}/v4/${tokenFor('nobody')}/stats`);
    await expect.poll(() => text()).toContain('task metadata request');
    expect(text()).toContain(`/v4/${token.slice(0, 4)}…/task`);
    expect(text()).not.toContain(token);
    expect(text()).not.toContain(tokenFor('nobody'));
    expect(redactPath(`/v3/${token}?x=${token}`)).toBe(`/v3/${token.slice(0, 4)}…`);
  });

  it('limits requests per address (429 beyond the burst)', async () => {
    const { server } = await start({ rateLimit: { perSecond: 0.001, burst: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.url}/v4/${token}`)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('answers 500 without details when the handler fails unexpectedly, and logs it', async () => {
    const handler = { handle: async () => Promise.reject(new Error('disk on fire')) } as unknown as MetadataHandler;
    const { server, text } = await start({ handler });
    const res = await fetch(`${server.url}/v4/${token}`);
    expect(res.status).toBe(500);
    expect(await res.json()).toBe('Internal Server Error');
    expect(text()).toContain('disk on fire');
  });

  it('fails to start with a clear error when the port is taken (two agents in one network namespace)', async () => {
    const { server } = await start();
    const error = await start({ port: server.address.port }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MetadataListenError);
    expect(error).toMatchObject({ code: 'EADDRINUSE' });
    expect((error as Error).message).toMatch(/127\.0\.0\.1:\d+ is already in use: is another agent running in this network namespace\? .*BERTH_METADATA_ADDRESS/);
  });

  it('stops listening when closed', async () => {
    const { server } = await start();
    await fetch(`${server.url}/v4/${token}`);
    await server.close();
    servers.length = 0;
    await expect(fetch(`${server.url}/v4/${token}`)).rejects.toThrow();
  });
});
