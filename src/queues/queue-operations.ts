import type { CallContext } from '../api/protocol/json-rpc.js';
import { ServiceError } from '../model/errors.js';
import { QueueEngine } from './engine.js';
import type { SqsEnv } from './env.js';
import { invalidAttributeName, invalidParameter, queueDoesNotExist } from './errors.js';
import { checkQueueName, nameFromUrl, queueArn, queueUrl } from './names.js';
import type { Queue } from './queue.js';
import { checkAttributes, defaultAttributes, differingAttribute } from './queue-attributes.js';
import type { QueueHost } from './queue-host.js';

/** The queue actions: create, find, list, attributes, purge, delete, tags, dead-letter sources. */

type Input = Record<string, any>;

export function queueOf(env: SqsEnv, url: string): { host: QueueHost; queue: Queue } {
  const host = env.queues();
  const queue = host.engine.queues.get(nameFromUrl(url, env.scope));
  if (!queue) throw queueDoesNotExist();
  return { host, queue };
}

const lookup = (host: QueueHost) => ({
  byArn: (arn: string) => {
    const q = host.engine.byArn(arn);
    return q ? { fifo: q.fifo, arn, attributes: q.data.attributes } : undefined;
  },
});

export async function createQueue(env: SqsEnv, input: Input, call: CallContext): Promise<object> {
  const host = env.queues();
  const name = String(input.QueueName);
  const given: Record<string, string> = input.Attributes ?? {};
  const fifo = given.FifoQueue?.toLowerCase() === 'true';
  if (name.endsWith('.fifo') && !fifo) {
    throw invalidParameter('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
  }
  checkQueueName(name, fifo);
  const arn = queueArn(env.scope, name);
  const attributes = checkAttributes(given, fifo, true, arn, lookup(host));
  const tags: Record<string, string> = input.tags ?? {};
  if (Object.keys(tags).length > 50) throw invalidParameter('Too many tags added for queue. Tags per queue limit: 50.');
  const existing = host.engine.queues.get(name);
  if (existing) {
    const differs = differingAttribute(existing.data.attributes, attributes, existing.fifo);
    if (differs) throw new ServiceError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${differs}`);
    return { QueueUrl: queueUrl(call.host, env.scope, name) };
  }
  const now = host.now();
  if (host.engine.deletedRecently(name, now)) {
    throw new ServiceError('QueueDeletedRecently', 'You must wait 60 seconds after deleting a queue before you can create another with the same name.');
  }
  host.engine.commit({ t: 'queue', queue: { name, attributes: { ...defaultAttributes(fifo), ...attributes }, tags, createdAt: now, modifiedAt: now } });
  await host.durable();
  return { QueueUrl: queueUrl(call.host, env.scope, name) };
}

export async function getQueueUrl(env: SqsEnv, input: Input, call: CallContext): Promise<object> {
  if (input.QueueOwnerAWSAccountId !== undefined && input.QueueOwnerAWSAccountId !== env.scope.accountId) throw queueDoesNotExist();
  const host = env.queues();
  if (!host.engine.queues.has(input.QueueName)) throw queueDoesNotExist();
  return { QueueUrl: queueUrl(call.host, env.scope, input.QueueName) };
}

/** Names in order after an opaque token's position: ListQueues and ListDeadLetterSourceQueues page alike. */
function page(names: string[], input: Input, call: CallContext, env: SqsEnv): object {
  names.sort();
  if (input.MaxResults === undefined) {
    if (input.NextToken !== undefined) throw invalidParameter('MaxResults is a mandatory parameter when you provide a value for NextToken.');
    return names.length === 0 ? {} : { QueueUrls: names.slice(0, 1000).map((n) => queueUrl(call.host, env.scope, n)) };
  }
  const max = Number(input.MaxResults);
  if (!Number.isInteger(max) || max < 1 || max > 1000) throw invalidParameter('Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.');
  let after = '';
  if (input.NextToken !== undefined) {
    try {
      after = JSON.parse(Buffer.from(String(input.NextToken), 'base64url').toString('utf8')).after as string;
    } catch {
      throw invalidParameter('Invalid NextToken value.');
    }
    if (typeof after !== 'string') throw invalidParameter('Invalid NextToken value.');
  }
  const rest = names.filter((n) => n > after);
  const shown = rest.slice(0, max);
  return {
    ...(shown.length > 0 ? { QueueUrls: shown.map((n) => queueUrl(call.host, env.scope, n)) } : {}),
    ...(rest.length > max ? { NextToken: Buffer.from(JSON.stringify({ after: shown[shown.length - 1] })).toString('base64url') } : {}),
  };
}

export async function listQueues(env: SqsEnv, input: Input, call: CallContext): Promise<object> {
  const prefix: string = input.QueueNamePrefix ?? '';
  const names = [...env.queues().engine.queues.keys()].filter((n) => n.startsWith(prefix));
  return page(names, input, call, env);
}

export async function listDeadLetterSourceQueues(env: SqsEnv, input: Input, call: CallContext): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const arn = queueArn(env.scope, queue.data.name);
  const names = [...host.engine.queues.values()]
    .filter((q) => q.data.attributes.RedrivePolicy && (JSON.parse(q.data.attributes.RedrivePolicy) as { deadLetterTargetArn: string }).deadLetterTargetArn === arn)
    .map((q) => q.data.name);
  const out = page(names, input, call, env) as { QueueUrls?: string[] };
  return { queueUrls: out.QueueUrls ?? [], ...('NextToken' in out ? { NextToken: (out as { NextToken: string }).NextToken } : {}) };
}

const readable = new Set([
  'Policy', 'VisibilityTimeout', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp', 'LastModifiedTimestamp', 'QueueArn', 'ApproximateNumberOfMessagesDelayed', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy', 'FifoQueue', 'ContentBasedDeduplication', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'DeduplicationScope', 'FifoThroughputLimit',
  'RedriveAllowPolicy', 'SqsManagedSseEnabled',
]);

export async function getQueueAttributes(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const asked: string[] = input.AttributeNames ?? [];
  for (const name of asked) if (name !== 'All' && !readable.has(name)) throw invalidAttributeName(name);
  if (asked.length === 0) return {};
  const counts = queue.counts(host.now());
  const all: Record<string, string> = {
    QueueArn: queueArn(env.scope, queue.data.name),
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.data.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.data.modifiedAt / 1000)),
    ...Object.fromEntries(Object.entries(queue.data.attributes).filter(([, v]) => v !== '')),
  };
  const wanted = asked.includes('All') ? Object.keys(all) : asked;
  const out: Record<string, string> = {};
  for (const name of wanted) if (all[name] !== undefined) out[name] = all[name];
  return Object.keys(out).length === 0 ? {} : { Attributes: out };
}

export async function setQueueAttributes(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const checked = checkAttributes(input.Attributes ?? {}, queue.fifo, false, queueArn(env.scope, queue.data.name), lookup(host));
  const attributes = { ...queue.data.attributes, ...checked };
  for (const [k, v] of Object.entries(checked)) if (v === '' && (k === 'RedrivePolicy' || k === 'RedriveAllowPolicy' || k === 'Policy')) delete attributes[k];
  host.engine.commit({ t: 'queue', queue: QueueEngine.changed(queue.data, { attributes }, host.now()) });
  await host.durable();
  return {};
}

export async function deleteQueue(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  host.engine.commit({ t: 'drop', q: queue.data.name, at: host.now() });
  await host.durable();
  return {};
}

export async function purgeQueue(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const now = host.now();
  if (queue.data.purgedAt !== undefined && now - queue.data.purgedAt < 60_000) {
    throw new ServiceError('PurgeQueueInProgress', `Only one PurgeQueue operation on ${queue.data.name} is allowed every 60 seconds.`);
  }
  host.engine.commit({ t: 'purge', q: queue.data.name, at: now });
  await host.durable();
  return {};
}

export async function tagQueue(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const tags = { ...queue.data.tags, ...(input.Tags as Record<string, string>) };
  if (Object.keys(tags).length > 50) throw invalidParameter('Too many tags added for queue. Tags per queue limit: 50.');
  host.engine.commit({ t: 'queue', queue: { ...queue.data, tags } });
  await host.durable();
  return {};
}

export async function untagQueue(env: SqsEnv, input: Input): Promise<object> {
  const { host, queue } = queueOf(env, input.QueueUrl);
  const tags = { ...queue.data.tags };
  for (const key of input.TagKeys as string[]) delete tags[key];
  host.engine.commit({ t: 'queue', queue: { ...queue.data, tags } });
  await host.durable();
  return {};
}

export async function listQueueTags(env: SqsEnv, input: Input): Promise<object> {
  const { queue } = queueOf(env, input.QueueUrl);
  return Object.keys(queue.data.tags).length === 0 ? {} : { Tags: queue.data.tags };
}
