import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clientAddressOf } from '../api/client-address.js';
import { MemoryStore } from '../store/memory.js';
import { isSqsRequest, QUEUE_OWNER_KEY, QueueForwarder, type QueueOwnerRecord } from './forward.js';

const listen = (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
  new Promise<{ server: Server; url: string }>((resolve) => {
    const server = createServer(handler).listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });

const post = (url: string, headers: Record<string, string>, body: string, localAddress?: string) =>
  new Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }>((resolve, reject) => {
    const target = new URL(url);
    const req = request({ host: target.hostname, port: target.port, method: 'POST', path: '/000000000000/jobs', headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });

describe('passing SQS requests on to the replica holding the queues', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('tells SQS requests by their target or their credential scope', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    expect(isSqsRequest(req({ 'x-amz-target': 'AmazonSQS.SendMessage' }))).toBe(true);
    expect(isSqsRequest(req({ 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters' }))).toBe(false);
    expect(isSqsRequest(req({ authorization: 'AWS4-HMAC-SHA256 Credential=AK/20261207/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00' }))).toBe(true);
    expect(isSqsRequest(req({ authorization: 'AWS4-HMAC-SHA256 Credential=AK/20261207/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00' }))).toBe(false);
  });

  it('passes a request on as it came to the owner of the current term only, and serves it here otherwise', async () => {
    const seen: { host?: string; forwarded?: string; body: string }[] = [];
    const owner = await listen((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ host: req.headers.host, forwarded: req.headers['x-berth-forwarded'] as string, body });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"from":"owner"}');
      });
    });
    servers.push(owner.server);
    const store = new MemoryStore();
    let held = false;
    const forwarder = new QueueForwarder({ store, leaderKey: 'leader', held: () => held, replicaId: 'r1', onError: () => {}, cacheMs: 0 });
    const here = await listen((req, res) => forwarder.handle(req, res, (_req, local) => local.writeHead(503).end('{"from":"here"}')));
    servers.push(here.server);
    const headers = { host: 'client-signed.example:8080', 'x-amz-target': 'AmazonSQS.SendMessage', 'content-type': 'application/x-amz-json-1.0' };

    // No owner yet: served here (ServiceUnavailable).
    expect((await post(here.url, headers, '{}')).body).toBe('{"from":"here"}');

    const leader = await store.txn([], [{ type: 'put', key: 'leader', value: '{"replica":"r0"}' }]);
    const record: QueueOwnerRecord = { url: owner.url, replica: 'r0', revision: leader.revision };
    await store.txn([], [{ type: 'put', key: QUEUE_OWNER_KEY, value: JSON.stringify(record) }]);
    const passed = await post(here.url, headers, '{"MessageBody":"hi"}');
    expect(passed).toMatchObject({ status: 200, body: '{"from":"owner"}' });
    expect(seen).toEqual([{ host: 'client-signed.example:8080', forwarded: 'r1', body: '{"MessageBody":"hi"}' }]);

    // A new term whose leader has not published itself yet: the old owner is not trusted.
    await store.txn([], [{ type: 'put', key: 'leader', value: '{"replica":"r2"}' }]);
    expect((await post(here.url, headers, '{}')).body).toBe('{"from":"here"}');
    // Already passed on once, or held here: served here.
    await store.txn([], [{ type: 'put', key: QUEUE_OWNER_KEY, value: JSON.stringify({ ...record, revision: (await store.get('leader'))!.modRevision }) }]);
    expect((await post(here.url, { ...headers, 'x-berth-forwarded': 'r0' }, '{}')).body).toBe('{"from":"here"}');
    held = true;
    expect((await post(here.url, headers, '{}')).body).toBe('{"from":"here"}');
    expect(seen).toHaveLength(1);
    forwarder.close();
  });
  it("adds the client's attested address to a request passed on, and the owner believes only a verified attestation", async () => {
    const store = new MemoryStore();
    const leader = await store.txn([], [{ type: 'put', key: 'leader', value: '{"replica":"r0"}' }]);
    // A stand-in attestation: a signature over the address (the server's is SigV4 with the root key pair).
    const attestation = {
      sign: async (address: string) => ({ 'x-berth-client-address': address, 'x-berth-forward-authorization': `signed:${address}` }),
      verify: async (h: IncomingMessage['headers']) => (h['x-berth-forward-authorization'] === `signed:${String(h['x-berth-client-address'])}` ? String(h['x-berth-client-address']) : undefined),
    };
    const served: { address?: string; claimed?: string }[] = [];
    const ownerSide = new QueueForwarder({ store, leaderKey: 'leader', held: () => true, replicaId: 'r0', onError: () => {}, attestation });
    const owner = await listen((req, res) =>
      ownerSide.handle(req, res, (r, out) => {
        served.push({ address: clientAddressOf(r), claimed: r.headers['x-berth-client-address'] as string | undefined });
        out.writeHead(200).end('{}');
      }),
    );
    servers.push(owner.server);
    await store.txn([], [{ type: 'put', key: QUEUE_OWNER_KEY, value: JSON.stringify({ url: owner.url, replica: 'r0', revision: leader.revision }) }]);
    const follower = new QueueForwarder({ store, leaderKey: 'leader', held: () => false, replicaId: 'r1', onError: () => {}, cacheMs: 0, attestation });
    const here = await listen((req, res) => follower.handle(req, res, (_req, local) => local.writeHead(503).end()));
    servers.push(here.server);
    const headers = { 'x-amz-target': 'AmazonSQS.SendMessage', 'content-type': 'application/x-amz-json-1.0' };

    // From 127.0.0.3 through the follower (whose own connection to the owner is from 127.0.0.1), claiming another
    // address: the follower's attestation of the real one replaces the claim, and the owner believes it.
    await post(here.url, { ...headers, 'x-berth-client-address': '10.9.9.9', 'x-berth-forward-authorization': 'signed:10.9.9.9' }, '{}', '127.0.0.3');
    // Straight at the owner: a claim without a verifying attestation, then one with a forged one, count for nothing.
    await post(owner.url, { ...headers, 'x-berth-forwarded': 'r9', 'x-berth-client-address': '10.9.9.9' }, '{}');
    await post(owner.url, { ...headers, 'x-berth-forwarded': 'r9', 'x-berth-client-address': '10.9.9.9', 'x-berth-forward-authorization': 'forged' }, '{}');
    expect(served).toEqual([
      { address: '127.0.0.3', claimed: '127.0.0.3' },
      { address: '127.0.0.1', claimed: '10.9.9.9' },
      { address: '127.0.0.1', claimed: '10.9.9.9' },
    ]);
    follower.close();
    ownerSide.close();
  });
});
