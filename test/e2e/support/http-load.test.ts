import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startLoad } from './http-load.js';

// The load generator is what the zero-downtime tests trust to see every failure: prove it counts them.
let server: http.Server;
let port = 0;
beforeAll(async () => {
  let n = 0;
  server = http.createServer((req, res) => {
    n++;
    if (req.url === '/reset' && n % 10 === 0) return req.socket.destroy();
    res.statusCode = req.url === '/fail' && n % 4 === 0 ? 503 : 200;
    res.end(n % 2 ? 'blue\n' : 'green\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('counts answers by status and body, and failures', async () => {
  const load = startLoad({ url: `http://127.0.0.1:${port}/fail`, connections: 4, ratePerSecond: 2000 });
  await expect.poll(() => load.snapshot().requests, { timeout: 5000 }).toBeGreaterThan(200);
  const r = await load.stop();
  expect(r.statuses[503]).toBeGreaterThan(0);
  expect(r.failures).toBe(r.statuses[503]);
  expect((r.bodies.blue ?? 0) + (r.bodies.green ?? 0)).toBe(r.statuses[200]);
});

test('counts connection resets as errors', async () => {
  const load = startLoad({ url: `http://127.0.0.1:${port}/reset`, connections: 2, ratePerSecond: 1000 });
  await expect.poll(() => load.snapshot().requests, { timeout: 5000 }).toBeGreaterThan(50);
  const r = await load.stop();
  expect(Object.values(r.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(r.failures).toBeGreaterThan(0);
});
