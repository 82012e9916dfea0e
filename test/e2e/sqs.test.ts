import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListDeadLetterSourceQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const REGION = 'us-east-1';

/**
 * SQS through its real clients against the built server: the SDK JS v3 (which checks the MD5s of what it sends and
 * receives) and the AWS CLI (JSON 1.0 as this machine's sends it). Long polls, visibility timeouts, redrive, FIFO
 * order and deduplication, AWS/SQS metrics, an EventBridge target's dead-letter queue, and a kill -9 of the server
 * between send and receive.
 */
describe('SQS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-sqs-'));
  let server: BerthServerProcess;
  let sqs: SQSClient;
  const cli = (...args: string[]) => awsCli(server.url, server.credentialsFile, args, REGION);
  const connect = () => new SQSClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 });

  beforeAll(async () => {
    if (!hasAwsCli) throw new Error('this test needs the AWS CLI at /usr/bin/aws');
    // A minute of AWS/SQS metrics lasts 5 s (BERTH_TIME_SCALE, test-only).
    server = await startBerthServer(join(dir, 'server'), [], { BERTH_TIME_SCALE: '12' });
    sqs = connect();
  });

  afterAll(async () => {
    sqs?.destroy();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends, receives and deletes with the AWS CLI and the SDK, MD5s checked', async () => {
    const created = await cli('sqs', 'create-queue', '--queue-name', 'jobs', '--attributes', 'VisibilityTimeout=5');
    expect(created.code, created.stderr).toBe(0);
    const url = JSON.parse(created.stdout).QueueUrl as string;
    expect(url).toBe(`${server.url}/000000000000/jobs`);
    // Idempotent with the same attributes; QueueAlreadyExists with another value.
    expect((await cli('sqs', 'create-queue', '--queue-name', 'jobs', '--attributes', 'VisibilityTimeout=5')).code).toBe(0);
    const clash = await cli('sqs', 'create-queue', '--queue-name', 'jobs', '--attributes', 'VisibilityTimeout=6');
    expect(clash.stderr).toContain('QueueAlreadyExists');

    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'hello', MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' }, n: { DataType: 'Number', StringValue: '7' }, raw: { DataType: 'Binary', BinaryValue: Uint8Array.of(1, 2, 3) } } }),
    );
    expect(sent.MD5OfMessageBody).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
    const m = got.Messages![0]!;
    expect(m.Body).toBe('hello');
    expect(m.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(Buffer.from(m.MessageAttributes!.raw!.BinaryValue!)).toEqual(Buffer.from([1, 2, 3]));
    expect(m.Attributes!.ApproximateReceiveCount).toBe('1');
    expect(Number(m.Attributes!.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));

    const viaCli = await cli('sqs', 'send-message', '--queue-url', url, '--message-body', 'from the cli');
    expect(viaCli.code, viaCli.stderr).toBe(0);
    const received = await cli('sqs', 'receive-message', '--queue-url', url, '--wait-time-seconds', '5');
    expect(JSON.parse(received.stdout).Messages[0].Body).toBe('from the cli');
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(attributes.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1', VisibilityTimeout: '5', QueueArn: `arn:aws:sqs:${REGION}:000000000000:jobs` });
    const missing = await cli('sqs', 'get-queue-url', '--queue-name', 'nope');
    expect(missing.stderr).toContain('AWS.SimpleQueueService.NonExistentQueue');
  });

  it('publishes AWS/SQS metrics to the metrics store', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'metered' }));
    for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }));
    const cloudwatch = new CloudWatchClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 });
    const read = async (MetricName: string) => {
      const { Datapoints } = await cloudwatch.send(
        new GetMetricStatisticsCommand({ Namespace: 'AWS/SQS', MetricName, Dimensions: [{ Name: 'QueueName', Value: 'metered' }], StartTime: new Date(Date.now() - 600_000), EndTime: new Date(Date.now() + 60_000), Period: 60, Statistics: ['Sum', 'Maximum'] }),
      );
      return Datapoints ?? [];
    };
    const deadline = Date.now() + 30_000;
    let sent = 0;
    let visible = 0;
    while (Date.now() < deadline && (sent < 3 || visible < 3)) {
      sent = (await read('NumberOfMessagesSent')).reduce((a, d) => a + (d.Sum ?? 0), 0);
      visible = Math.max(0, ...(await read('ApproximateNumberOfMessagesVisible')).map((d) => d.Maximum ?? 0));
      if (sent < 3 || visible < 3) await new Promise((r) => setTimeout(r, 1_000));
    }
    cloudwatch.destroy();
    expect({ sent, visible }).toEqual({ sent: 3, visible: 3 });
  });

  it('an EventBridge target whose RunTask fails sends the event to its DeadLetterConfig queue', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'events-dlq' }));
    const events = new EventBridgeClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 });
    await events.send(new PutRuleCommand({ Name: 'orders', EventPattern: '{"source":["shop"]}' }));
    const cluster = `arn:aws:ecs:${REGION}:000000000000:cluster/default`;
    const put = await events.send(
      new PutTargetsCommand({
        Rule: 'orders',
        Targets: [
          {
            Id: 'run',
            Arn: cluster,
            // The role does not exist: every RunTask fails, and no retry is allowed.
            RoleArn: 'arn:aws:iam::000000000000:role/missing',
            EcsParameters: { TaskDefinitionArn: 'x:1' },
            RetryPolicy: { MaximumRetryAttempts: 0 },
            DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:000000000000:events-dlq` },
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const answer = await events.send(new PutEventsCommand({ Entries: [{ Source: 'shop', DetailType: 'order placed', Detail: '{"id":7}' }] }));
    events.destroy();
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20, MessageAttributeNames: ['All'] }));
    const m = got.Messages?.[0];
    expect(JSON.parse(m?.Body ?? '{}')).toMatchObject({ id: answer.Entries![0]!.EventId, source: 'shop', detail: { id: 7 } });
    const attribute = (name: string) => m?.MessageAttributes?.[name]?.StringValue;
    expect([attribute('RULE_ARN'), attribute('TARGET_ARN'), attribute('EXHAUSTED_RETRY_CONDITION'), attribute('RETRY_ATTEMPTS')]).toEqual([
      `arn:aws:events:${REGION}:000000000000:rule/orders`,
      cluster,
      'MaximumRetryAttempts',
      '0',
    ]);
    expect(attribute('ERROR_MESSAGE')).toBeTruthy();
  });

  it('a deleted queue\'s name is refused for 60 s (QueueDeletedRecently)', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'short-lived' }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    const again = await sqs.send(new CreateQueueCommand({ QueueName: 'short-lived' })).catch((e: Error) => e);
    expect(again).toMatchObject({ name: 'QueueDeletedRecently', $metadata: { httpStatusCode: 400 } });
    const viaCli = await cli('sqs', 'create-queue', '--queue-name', 'short-lived');
    expect(viaCli.stderr).toContain('AWS.SimpleQueueService.QueueDeletedRecently');
  });

  it('a long poll returns as soon as a message arrives', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'wake' }));
    const started = Date.now();
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((r) => setTimeout(r, 500));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake up' }));
    const got = await polling;
    expect(got.Messages?.[0]?.Body).toBe('wake up');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('redelivers after the visibility timeout and moves to the dead-letter queue after maxReceiveCount', async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'work-dlq' }));
    const dlqArn = `arn:aws:sqs:${REGION}:000000000000:work-dlq`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'work', Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(first.Messages).toHaveLength(1);
    // Invisible until the timeout passes; the long poll wakes when it does.
    const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    // A visibility change keeps it hidden; the third receive after that moves it to the dead-letter queue.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: second.Messages![0]!.ReceiptHandle!, VisibilityTimeout: 0 }));
    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(third.Messages ?? []).toHaveLength(0);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 2, MessageSystemAttributeNames: ['All'] }));
    expect(dead.Messages?.[0]?.Body).toBe('poison');
    expect(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn).toBe(`arn:aws:sqs:${REGION}:000000000000:work`);
    const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.QueueUrl }));
    expect(sources.queueUrls).toEqual([QueueUrl]);
  });

  it('FIFO: order within a group, one group at a time in flight, deduplication', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }));
    const batch = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl, Entries: ['a1', 'a2', 'a3'].map((body, i) => ({ Id: `e${i}`, MessageBody: body, MessageGroupId: 'a' })) }),
    );
    expect(batch.Successful).toHaveLength(3);
    const dup = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a1', MessageGroupId: 'a' }));
    expect(dup.MessageId).toBe(batch.Successful!.find((e) => e.Id === 'e0')!.MessageId);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'b1', MessageGroupId: 'b' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2 }));
    expect(first.Messages!.map((m) => m.Body)).toEqual(['a1', 'a2']);
    // Group a has messages in flight: only b's is receivable.
    const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(second.Messages!.map((m) => m.Body)).toEqual(['b1']);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: first.Messages!.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(third.Messages!.map((m) => m.Body)).toEqual(['a3']);
    const missingGroup = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })).catch((e: Error) => e);
    expect((missingGroup as Error).name).toBe('MissingParameter');
  });

  it('a message acknowledged before a kill -9 is received after the restart, and an in-flight one stays hidden', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'durable' }));
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }))).MessageId!);
    const inFlight = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 600 }));
    expect(inFlight.Messages).toHaveLength(1);
    expect(await server.kill('SIGKILL')).toBeNull();
    sqs.destroy();
    server = await startBerthServer(join(dir, 'server'), [], { BERTH_TIME_SCALE: '12' });
    sqs = connect();
    const url = QueueUrl!.replace(/^http:\/\/[^/]+/, server.url);
    const seen = new Set<string>();
    for (let round = 0; round < 10 && seen.size < 19; round++) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of got.Messages ?? []) seen.add(m.MessageId!);
    }
    expect(seen.size).toBe(19);
    expect(seen.has(inFlight.Messages![0]!.MessageId!)).toBe(false);
    expect([...seen].every((id) => ids.includes(id))).toBe(true);

    // The AWS/SQS counts are kept in the log: the minutes before the kill and after it add up to what happened,
    // nothing lost, nothing counted twice. A publication stamped after the restart means every minute the killed
    // process had recorded is settled (a pass settles those before publishing its own).
    const cloudwatch = new CloudWatchClient({ endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 });
    const read = async (MetricName: string) => {
      const { Datapoints } = await cloudwatch.send(
        new GetMetricStatisticsCommand({ Namespace: 'AWS/SQS', MetricName, Dimensions: [{ Name: 'QueueName', Value: 'durable' }], StartTime: new Date(Date.now() - 600_000), EndTime: new Date(Date.now() + 60_000), Period: 1, Statistics: ['Sum'] }),
      );
      return Datapoints ?? [];
    };
    const total = (points: { Sum?: number }[]) => points.reduce((a, d) => a + (d.Sum ?? 0), 0);
    const afterReceives = Date.now();
    const deadline = afterReceives + 30_000;
    let sent: { Sum?: number; Timestamp?: Date }[] = [];
    while (Date.now() < deadline) {
      sent = await read('NumberOfMessagesSent');
      if (sent.some((d) => d.Timestamp!.getTime() >= afterReceives)) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const received = await read('NumberOfMessagesReceived');
    cloudwatch.destroy();
    expect({ sent: total(sent), received: total(received) }).toEqual({ sent: 20, received: 20 });
  });
});
