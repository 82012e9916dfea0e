import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from '../../src/testing/etcd.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { sqsReplicaSet } from './support/sqs-replicas.js';

const REGION = 'us-east-1';

/**
 * SQS on two `berth server` replicas sharing one etcd and one shared directory (docs/ha.md): the leader holds the
 * queues, the follower passes SQS requests on to it (queues/forward.ts). Sent through one replica, received through
 * the other, with the SDK JS v3 (JSON 1.0) and the AWS CLI (Query); a long poll through the follower woken by a send
 * through the leader; then the leader is killed with SIGKILL and every acknowledged message not yet deleted is
 * received from the replica that takes over, and through the killed one once it is back as a follower.
 */
describe('SQS across replicas', () => {
  let etcd: EtcdCluster;
  const root = mkdtempSync(join(tmpdir(), 'berth-e2e-sqs-replicas-'));
  const { replicas, start, role, leaderOf } = sqsReplicaSet(root, () => etcd);
  const clients: SQSClient[] = [];

  // Retries ride over a failover's 503s (the SDK's standard retry strategy, with room for a lease TTL).
  const client = (r: BerthServerProcess) => {
    const c = new SQSClient({ endpoint: r.url, region: REGION, credentials: { ...r.keys }, maxAttempts: 10 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    if (!hasAwsCli) throw new Error('this test needs the AWS CLI at /usr/bin/aws');
    etcd = await startEtcdCluster();
    // One after the other: two starts at once on a loaded machine can outlast the fixture's start timeout.
    for (const i of [0, 1]) replicas.push(await start(i));
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    await etcd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves SQS through either replica, and loses no acknowledged message when the leader is killed', async () => {
    await expect.poll(leaderOf, { timeout: 15_000, interval: 100 }).toBeDefined();
    const leader = (await leaderOf())!;
    const follower = replicas.find((r) => r !== leader)!;
    expect(await role(follower)).toBe('follower');
    const [viaFollower, viaLeader] = [client(follower), client(leader)];

    // Created through the follower: the URL names the replica the client called.
    const { QueueUrl } = await viaFollower.send(new CreateQueueCommand({ QueueName: 'jobs', Attributes: { VisibilityTimeout: '30' } }));
    expect(QueueUrl).toBe(`${follower.url}/000000000000/jobs`);
    const sent = new Map<string, string>();
    for (let b = 0; b < 4; b++) {
      const out = await viaFollower.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `m${b * 10 + i}` })) }));
      expect(out.Failed ?? []).toEqual([]);
      for (const s of out.Successful!) sent.set(s.MessageId!, `m${b * 10 + Number(s.Id!.slice(1))}`);
    }
    const cliSent = await awsCli(follower.url, follower.credentialsFile, ['sqs', 'send-message', '--queue-url', QueueUrl!, '--message-body', 'from the cli'], REGION);
    expect(cliSent.code, cliSent.stderr).toBe(0);
    sent.set(JSON.parse(cliSent.stdout).MessageId as string, 'from the cli');

    // Received and deleted through the leader (its URL for the same queue).
    const leaderUrl = QueueUrl!.replace(follower.url, leader.url);
    const first = await viaLeader.send(new ReceiveMessageCommand({ QueueUrl: leaderUrl, MaxNumberOfMessages: 10 }));
    expect(first.Messages).toHaveLength(10);
    for (const m of first.Messages!) expect(sent.get(m.MessageId!)).toBe(m.Body);
    await viaLeader.send(new DeleteMessageBatchCommand({ QueueUrl: leaderUrl, Entries: first.Messages!.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
    for (const m of first.Messages!) sent.delete(m.MessageId!);

    // A long poll through the follower on another queue, woken by a send through the leader.
    const wake = await viaLeader.send(new CreateQueueCommand({ QueueName: 'wake' }));
    const polling = viaFollower.send(new ReceiveMessageCommand({ QueueUrl: wake.QueueUrl!.replace(leader.url, follower.url), WaitTimeSeconds: 20 }));
    await new Promise((r) => setTimeout(r, 300));
    const wokeAt = Date.now();
    await viaLeader.send(new SendMessageCommand({ QueueUrl: wake.QueueUrl, MessageBody: 'wake up' }));
    expect((await polling).Messages?.[0]?.Body).toBe('wake up');
    expect(Date.now() - wokeAt).toBeLessThan(5_000);

    // Kill -9 the leader: the follower takes over and opens the log; every acknowledged message left is there.
    expect(await leader.kill('SIGKILL')).toBeNull();
    await expect.poll(async () => role(follower), { timeout: 15_000, interval: 100 }).toBe('leader');
    const survivors = new Map<string, string>();
    for (let round = 0; round < 20 && survivors.size < sent.size; round++) {
      const got = await viaFollower.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600 }));
      for (const m of got.Messages ?? []) survivors.set(m.MessageId!, m.Body!);
    }
    expect(survivors).toEqual(sent);

    // The killed replica restarts as a follower and passes requests on to the new leader.
    const index = replicas.indexOf(leader);
    replicas[index] = await start(index);
    const back = replicas[index]!;
    await expect.poll(async () => role(back), { timeout: 15_000, interval: 100 }).toBe('follower');
    const viaBack = client(back);
    const backUrl = QueueUrl!.replace(follower.url, back.url);
    await viaBack.send(new SendMessageCommand({ QueueUrl: backUrl, MessageBody: 'after the failover' }));
    const last = await viaBack.send(new ReceiveMessageCommand({ QueueUrl: backUrl, WaitTimeSeconds: 5 }));
    expect(last.Messages?.map((m) => m.Body)).toEqual(['after the failover']);
    expect(last.Messages![0]!.ReceiptHandle).toBeDefined();
  });
});
