import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../testing/api-server.js';
import { failure } from '../testing/failure.js';
import { controlPlaneClients } from './control-plane-clients.js';
import { ControlPlaneEndpoints, startIndex } from './endpoints.js';

let api: ApiFixture;
const servers: Server[] = [];

beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await api.stop();
});

/** A stand-in replica answering every request with `handle`; returns its URL and the requests it saw. */
async function replica(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: { host?: string }[] = [];
  const server = createServer((req, res) => {
    seen.push({ ...(req.headers.host ? { host: req.headers.host } : {}) });
    req.resume();
    handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A loopback URL nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

/** Endpoints that start on the first of `list`. */
function startingOnFirst(list: string[]): ControlPlaneEndpoints {
  for (let i = 0; ; i++) if (startIndex(`seed-${i}`, list.length) === 0) return new ControlPlaneEndpoints(list, { seed: `seed-${i}` });
}

const clientsFor = (endpoints: ControlPlaneEndpoints, timeouts?: { connectionTimeout: number; requestTimeout: number }) =>
  controlPlaneClients(endpoints, TEST_REGION, async () => TEST_KEYS, timeouts);

describe('SDK calls fail over between replicas', () => {
  it('retries a call refused with 503 on the next replica, signed for it', async () => {
    const unavailable = await replica((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'ServiceUnavailableException', message: 'the store is unavailable' }));
    });
    const endpoints = startingOnFirst([unavailable.url, api.server.url]);
    const clients = clientsFor(endpoints);
    try {
      // The real server checks the SigV4 signature, Host header included: the retry was addressed and
      // signed for it, not for the replica the call started on.
      const { cluster } = await clients.ecs.send('CreateCluster', { clusterName: 'failover-503' });
      expect(cluster?.clusterName).toBe('failover-503');
      expect(unavailable.seen).toEqual([{ host: new URL(unavailable.url).host }]);
      expect(endpoints.current()).toBe(api.server.url);
    } finally {
      clients.destroy();
    }
  });

  it('moves on from a replica that refuses connections, for every client', async () => {
    const endpoints = startingOnFirst([await deadUrl(), api.server.url]);
    const clients = clientsFor(endpoints);
    try {
      await clients.ecs.send('CreateCluster', { clusterName: 'failover-refused' });
      expect(endpoints.current()).toBe(api.server.url);
      // The other clients use the same choice: no attempt at the dead one first.
      await (await clients.ecr()).send('GetAuthorizationToken', {});
      await (await clients.logs()).send('CreateLogGroup', { logGroupName: '/failover/refused' });
      expect(endpoints.current()).toBe(api.server.url);
    } finally {
      clients.destroy();
    }
  });

  it('moves on from a replica that accepts but never answers, after the request timeout', async () => {
    const hung = await replica(() => {});
    const endpoints = startingOnFirst([hung.url, api.server.url]);
    const clients = clientsFor(endpoints, { connectionTimeout: 1_000, requestTimeout: 300 });
    try {
      await clients.ecs.send('CreateCluster', { clusterName: 'failover-hung' });
      expect(hung.seen).toHaveLength(1);
      expect(endpoints.current()).toBe(api.server.url);
    } finally {
      clients.destroy();
    }
  });

  it('stays on a replica that answered with an error about the request', async () => {
    const endpoints = startingOnFirst([api.server.url, await deadUrl()]);
    const clients = clientsFor(endpoints);
    try {
      const error = await failure(clients.ecs.send('DescribeServices', { cluster: 'no-such-cluster', services: ['web'] }));
      expect(error).toMatchObject({ name: 'ClusterNotFoundException', status: 400 });
      expect(endpoints.current()).toBe(api.server.url);
    } finally {
      clients.destroy();
    }
  });
});
