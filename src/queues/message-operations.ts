import type { CallContext } from '../api/protocol/json-rpc.js';
import { ServiceError } from '../model/errors.js';
import type { SqsEnv } from './env.js';
import { invalidParameter, invalidValue, receiptHandleInvalid } from './errors.js';
import { md5OfAttributes } from './message-md5.js';
import type { Message, Queue } from './queue.js';
import { intAttribute } from './queue-attributes.js';
import type { QueueHost } from './queue-host.js';
import { queueOf } from './queue-operations.js';
import { binaryDecoded, prepareSend, sendDigests, type SendEntry } from './send.js';

/** The message actions: send, receive, delete, change visibility, one at a time and in batches. */

type Input = Record<string, any>;

/** A receipt handle: the queue, the message and which receive of it (only the latest acts). */
export function receiptHandle(queue: string, id: string, receipt: string): string {
  return Buffer.from(`${queue}\n${id}\n${receipt}`, 'utf8').toString('base64');
}

function parseHandle(handle: string, queue: Queue): { id: string; receipt: string } {
  const parts = Buffer.from(handle, 'base64').toString('utf8').split('\n');
  if (parts.length !== 3 || parts[0] !== queue.data.name || !parts[1] || !parts[2]) throw receiptHandleInvalid(handle);
  return { id: parts[1], receipt: parts[2] };
}

function sendOne(host: QueueHost, queue: Queue, entry: SendEntry, call: CallContext): object {
  const now = host.now();
  const { data, visibleAt } = prepareSend(queue, entry, now, call.principal);
  if (queue.fifo && data.dedupId !== undefined) {
    const earlier = host.engine.duplicateOf(queue, data.groupId, data.dedupId, now);
    // A duplicate is accepted and not enqueued: the answer names the message first sent.
    if (earlier) return { ...sendDigests(data), MessageId: earlier.id, ...(earlier.seq !== undefined ? { SequenceNumber: earlier.seq } : {}) };
  }
  host.engine.commit({ t: 'send', q: queue.data.name, m: data, visibleAt });
  return { ...sendDigests(data), MessageId: data.id, ...(data.seq !== undefined ? { SequenceNumber: data.seq } : {}) };
}

export async function sendMessage(env: SqsEnv, input: Input, call: CallContext): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const out = sendOne(host, queue, input, call);
  await host.durable();
  return out;
}

/** A batch's checks before any entry runs: 1–10 entries, distinct well-formed ids. */
function checkBatch(entries: { Id: string }[], kind: string): void {
  if (entries.length === 0) throw new ServiceError('EmptyBatchRequest', `There should be at least one ${kind} in the request.`);
  if (entries.length > 10) throw new ServiceError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
  const seen = new Set<string>();
  for (const { Id } of entries) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(Id)) {
      throw new ServiceError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (seen.has(Id)) throw new ServiceError('BatchEntryIdsNotDistinct', `Id ${Id} repeated.`);
    seen.add(Id);
  }
}

/** A ServiceError as a batch's per-entry failure; anything else fails the whole call. */
function entryFailure(id: string, error: unknown): object {
  if (!(error instanceof ServiceError)) throw error;
  return { Id: id, SenderFault: true, Code: error.type, Message: error.message };
}

export async function sendMessageBatch(env: SqsEnv, input: Input, call: CallContext): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const entries = input.Entries as (SendEntry & { Id: string })[];
  checkBatch(entries, 'SendMessageBatchRequestEntry');
  let total = 0;
  for (const e of entries) total += Buffer.byteLength(e.MessageBody ?? '', 'utf8');
  const max = intAttribute(queue.data.attributes, 'MaximumMessageSize');
  if (total > max) throw new ServiceError('BatchRequestTooLong', `Batch requests cannot be longer than ${max} bytes. You have sent ${total} bytes.`);
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const e of entries) {
    try {
      Successful.push({ Id: e.Id, ...sendOne(host, queue, e, call) });
    } catch (error) {
      Failed.push(entryFailure(e.Id, error));
    }
  }
  await host.durable();
  return { Successful, Failed };
}

const SYSTEM_NAMES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SequenceNumber', 'MessageDeduplicationId', 'MessageGroupId', 'AWSTraceHeader', 'DeadLetterQueueSourceArn'];

export async function receiveMessage(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const max = input.MaxNumberOfMessages ?? 1;
  if (!Number.isInteger(max) || max < 1 || max > 10) throw invalidValue('MaxNumberOfMessages', max, 'Must be between 1 and 10, if provided.');
  const wait = input.WaitTimeSeconds ?? intAttribute(queue.data.attributes, 'ReceiveMessageWaitTimeSeconds');
  if (!Number.isInteger(wait) || wait < 0 || wait > 20) throw invalidValue('WaitTimeSeconds', wait, 'Must be >= 0 and <= 20, if provided.');
  const visibility = input.VisibilityTimeout ?? intAttribute(queue.data.attributes, 'VisibilityTimeout');
  if (!Number.isInteger(visibility) || visibility < 0 || visibility > 43_200) throw invalidValue('VisibilityTimeout', visibility, 'Must be >= 0 and <= 43200, if provided.');
  const attempt: string | undefined = input.ReceiveRequestAttemptId;
  if (attempt !== undefined && queue.fifo) {
    const repeated = host.repeatAttempt(queue, attempt);
    if (repeated) return answer(queue, repeated, input);
  }
  // The attempt is written with the receive's records, in the same commit.
  const remember = attempt !== undefined && queue.fifo ? (q: Queue, messages: readonly Message[]) => host.rememberAttempt(q, attempt, messages) : undefined;
  const got = await host.receive(queue.data.name, max, visibility * 1000, wait * 1000, remember);
  return answer(got.queue, got.messages, input);
}

function answer(queue: Queue, messages: readonly Message[], input: Input): object {
  if (messages.length === 0) return {};
  const systemAsked = new Set<string>([...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])]);
  const allSystem = systemAsked.has('All');
  const names: string[] = input.MessageAttributeNames ?? [];
  const wantAttribute = (n: string) => names.some((w) => w === 'All' || w === '.*' || w === n || (w.endsWith('.*') && n.startsWith(w.slice(0, -1))));
  return {
    Messages: messages.map((m) => {
      const system: Record<string, string | undefined> = {
        SenderId: m.data.senderId,
        SentTimestamp: String(m.data.sentAt),
        ApproximateReceiveCount: String(m.receives),
        ApproximateFirstReceiveTimestamp: m.firstReceiveAt !== undefined ? String(m.firstReceiveAt) : undefined,
        SequenceNumber: m.data.seq,
        MessageDeduplicationId: m.data.dedupId,
        MessageGroupId: m.data.groupId,
        AWSTraceHeader: m.data.traceHeader,
        DeadLetterQueueSourceArn: m.data.deadLetterSourceArn,
      };
      const Attributes: Record<string, string> = {};
      for (const n of SYSTEM_NAMES) if ((allSystem || systemAsked.has(n)) && system[n] !== undefined) Attributes[n] = system[n]!;
      const chosen = Object.entries(m.data.attributes ?? {}).filter(([n]) => wantAttribute(n));
      const MessageAttributes = Object.fromEntries(chosen.map(([n, a]) => [n, { DataType: a.DataType, ...(a.StringValue !== undefined ? { StringValue: a.StringValue } : {}), ...(a.BinaryValue !== undefined ? { BinaryValue: Buffer.from(a.BinaryValue, 'base64') } : {}) }]));
      const md5Attrs = md5OfAttributes(binaryDecoded(Object.fromEntries(chosen)));
      return {
        MessageId: m.data.id,
        ReceiptHandle: receiptHandle(queue.data.name, m.data.id, m.receipt!),
        MD5OfBody: m.data.md5Body,
        Body: m.data.body,
        ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
        ...(md5Attrs ? { MD5OfMessageAttributes: md5Attrs, MessageAttributes } : {}),
      };
    }),
  };
}

function deleteOne(host: QueueHost, queue: Queue, handle: string): void {
  const { id, receipt } = parseHandle(handle, queue);
  const m = queue.messages.get(id);
  // Gone already, or received again since this handle: succeeds without deleting (SQS's rule for stale handles).
  if (!m || m.receipt !== receipt) return;
  host.engine.commit({ t: 'del', q: queue.data.name, id });
}

export async function deleteMessage(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  deleteOne(host, queue, input.ReceiptHandle);
  await host.durable();
  return {};
}

export async function deleteMessageBatch(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const entries = input.Entries as { Id: string; ReceiptHandle: string }[];
  checkBatch(entries, 'DeleteMessageBatchRequestEntry');
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const e of entries) {
    try {
      deleteOne(host, queue, e.ReceiptHandle);
      Successful.push({ Id: e.Id });
    } catch (error) {
      Failed.push(entryFailure(e.Id, error));
    }
  }
  await host.durable();
  return { Successful, Failed };
}

function changeOne(host: QueueHost, queue: Queue, handle: string, timeout: unknown): void {
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0 || timeout > 43_200) {
    throw invalidValue('VisibilityTimeout', timeout, 'VisibilityTimeout must be an integer between 0 and 43200.');
  }
  const { id, receipt } = parseHandle(handle, queue);
  const m = queue.messages.get(id);
  if (!m || m.receipt !== receipt) throw invalidParameter(`Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`);
  const now = host.now();
  if (m.visibleAt <= now) throw new ServiceError('MessageNotInflight', 'The message referred to is not in flight.');
  host.engine.commit({ t: 'vis', q: queue.data.name, id, visibleAt: now + timeout * 1000 });
}

export async function changeMessageVisibility(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  changeOne(host, queue, input.ReceiptHandle, input.VisibilityTimeout);
  await host.durable();
  return {};
}

export async function changeMessageVisibilityBatch(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const entries = input.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout?: number }[];
  checkBatch(entries, 'ChangeMessageVisibilityBatchRequestEntry');
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const e of entries) {
    try {
      changeOne(host, queue, e.ReceiptHandle, e.VisibilityTimeout ?? 0);
      Successful.push({ Id: e.Id });
    } catch (error) {
      Failed.push(entryFailure(e.Id, error));
    }
  }
  await host.durable();
  return { Successful, Failed };
}

