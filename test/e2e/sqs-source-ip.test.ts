import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from '../../src/testing/etcd.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { sqsReplicaSet } from './support/sqs-replicas.js';

const REGION = 'us-east-1';
/** A loopback address of its own for the allowed client (every 127/8 address is the host's). */
const CLIENT_IP = '127.0.0.2';

/**
 * aws:SourceIp across replicas (queues/forward.ts, api/auth/forwarded-client.ts): two `berth server` replicas on one
 * etcd; a user may use SQS only from 127.0.0.2. Its SendMessage from 127.0.0.2 through the follower (which passes it
 * on to the leader, from the follower's own address) is allowed: the follower attests the client's address with the
 * root key pair. From 127.0.0.1 it is refused through either replica, also when the client sends the attestation's
 * address header itself, with or without a made-up signature (AccessDenied; through the follower, which replaces the
 * claimed header, the client's own signature over it no longer matches).
 */
describe('aws:SourceIp of SQS requests a follower passes on', () => {
  let etcd: EtcdCluster;
  const root = mkdtempSync(join(tmpdir(), 'berth-e2e-sqs-source-ip-'));
  const { replicas, start, leaderOf } = sqsReplicaSet(root, () => etcd);
  const clients: SQSClient[] = [];
  let keys: { accessKeyId: string; secretAccessKey: string };

  /** An SQS client of the user's, connecting from `localAddress`, adding `headers` to every request it signs. */
  const client = (r: BerthServerProcess, localAddress: string, headers: Record<string, string> = {}) => {
    const c = new SQSClient({ endpoint: r.url, region: REGION, credentials: keys, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ localAddress }) }) });
    c.middlewareStack.add(
      (next) => async (args) => {
        Object.assign((args.request as { headers: Record<string, string> }).headers, headers);
        return next(args);
      },
      { step: 'build' },
    );
    clients.push(c);
    return c;
  };
  const send = (c: SQSClient, url: string) => c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hello' })).then(() => 'sent', (e: Error) => e.name);

  beforeAll(async () => {
    etcd = await startEtcdCluster();
    for (const i of [0, 1]) replicas.push(await start(i));
    const leader = replicas[0]!;
    const iam = new IAMClient({ endpoint: leader.url, region: REGION, credentials: { ...leader.keys } });
    try {
      await iam.send(new CreateUserCommand({ UserName: 'from-one-address' }));
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': `${CLIENT_IP}/32` } } }] };
      await iam.send(new PutUserPolicyCommand({ UserName: 'from-one-address', PolicyName: 'one-address', PolicyDocument: JSON.stringify(policy) }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'from-one-address' }))).AccessKey!;
      keys = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    } finally {
      iam.destroy();
    }
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    await etcd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('allows the client from its address through the follower, and a client claiming that address nothing', async () => {
    await expect.poll(leaderOf, { timeout: 15_000, interval: 100 }).toBeDefined();
    const leader = (await leaderOf())!;
    const follower = replicas.find((r) => r !== leader)!;
    const rootSqs = new SQSClient({ endpoint: leader.url, region: REGION, credentials: { ...leader.keys } });
    clients.push(rootSqs);
    const { QueueUrl } = await rootSqs.send(new CreateQueueCommand({ QueueName: 'guarded' }));
    const viaFollower = QueueUrl!.replace(leader.url, follower.url);

    // Allowed from 127.0.0.2 through the follower (once both replicas know the new key).
    await expect.poll(() => send(client(follower, CLIENT_IP), viaFollower), { timeout: 20_000, interval: 250 }).toBe('sent');
    // ... and directly at the leader: the condition is what decides.
    expect(await send(client(leader, CLIENT_IP), QueueUrl!)).toBe('sent');

    // From 127.0.0.1: refused through either replica.
    expect(await send(client(follower, '127.0.0.1'), viaFollower)).toMatch(/^AccessDenied/);
    expect(await send(client(leader, '127.0.0.1'), QueueUrl!)).toMatch(/^AccessDenied/);
    // Claiming 127.0.0.2 in the attestation's header, directly or through the follower, with a made-up signature or none.
    const claim = { 'x-berth-client-address': CLIENT_IP };
    const forged = {
      ...claim,
      'x-berth-forward-authorization': `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/20260101/${REGION}/sqs/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
      'x-berth-forward-date': '20260101T000000Z',
      'x-berth-forwarded': 'r9',
    };
    for (const headers of [claim, forged]) {
      expect(await send(client(leader, '127.0.0.1', headers), QueueUrl!), JSON.stringify(headers)).toMatch(/^AccessDenied/);
      // Through the follower the claim is replaced by the follower's attestation of 127.0.0.1, which the client's
      // signature (the SDK signs every header it sends) no longer matches; or, claiming to be passed on already, it
      // is served by the follower itself, as from 127.0.0.1.
      expect(await send(client(follower, '127.0.0.1', headers), viaFollower), JSON.stringify(headers)).toMatch(/^(AccessDenied|SignatureDoesNotMatch|ServiceUnavailable)$/);
    }
  }, 60_000);
});
