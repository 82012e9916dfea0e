import { invalidAttributeName, invalidAttributeValue, invalidParameter } from './errors.js';

/**
 * A queue's settable attributes (strings on the wire, as SQS keeps them), their defaults and ranges, the checks
 * CreateQueue and SetQueueAttributes make, and the comparison that makes CreateQueue idempotent. Pure.
 */
export type QueueAttributes = Readonly<Record<string, string>>;

/** Integer attributes: [min, max, default]. */
const ranges = {
  DelaySeconds: [0, 900, 0],
  MaximumMessageSize: [1024, 1_048_576, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600, 345_600],
  ReceiveMessageWaitTimeSeconds: [0, 20, 0],
  VisibilityTimeout: [0, 43_200, 30],
  KmsDataKeyReusePeriodSeconds: [60, 86_400, 300],
} as const satisfies Record<string, readonly [number, number, number]>;

const booleans = new Set(['FifoQueue', 'ContentBasedDeduplication', 'SqsManagedSseEnabled']);
const fifoOnly = new Set(['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);
/** Settable, but kept as given: berth has no KMS and evaluates no queue policy (docs/queues.md). */
const kept = new Set(['Policy', 'KmsMasterKeyId']);

/** The attributes a new queue has when CreateQueue does not name them. */
export function defaultAttributes(fifo: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, [, , value]] of Object.entries(ranges)) if (name !== 'KmsDataKeyReusePeriodSeconds') out[name] = String(value);
  out.SqsManagedSseEnabled = 'true';
  if (fifo) {
    out.FifoQueue = 'true';
    out.ContentBasedDeduplication = 'false';
    out.DeduplicationScope = 'queue';
    out.FifoThroughputLimit = 'perQueue';
  }
  return out;
}

/** What the checks need to know of the rest of the account: a dead-letter target's kind, by ARN. */
export interface QueueLookup {
  /** The queue named by an ARN of this account and region, if it exists. */
  byArn(arn: string): { readonly fifo: boolean; readonly arn: string; readonly attributes: QueueAttributes } | undefined;
}

/**
 * Checks `given` for a queue (new when `creating`) and returns it normalised (booleans lower-cased, JSON policies
 * re-serialised). `FifoQueue` may be given only at creation.
 */
export function checkAttributes(given: QueueAttributes, fifo: boolean, creating: boolean, selfArn: string, lookup: QueueLookup): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (name in ranges) {
      const [min, max] = ranges[name as keyof typeof ranges];
      if (!/^-?\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
        throw invalidAttributeValue(name, `${name} must be an integer between ${min} and ${max}.`);
      }
      out[name] = String(Number(value));
    } else if (booleans.has(name)) {
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false') throw invalidAttributeValue(name);
      if (name === 'FifoQueue') {
        if (!creating) throw invalidAttributeName(name);
        if ((v === 'true') !== fifo) {
          throw invalidParameter(fifo ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.' : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
        }
      }
      if (fifoOnly.has(name) && !fifo) throw invalidAttributeName(name);
      out[name] = v;
    } else if (name === 'DeduplicationScope' || name === 'FifoThroughputLimit') {
      if (!fifo) throw invalidAttributeName(name);
      const allowed = name === 'DeduplicationScope' ? ['messageGroup', 'queue'] : ['perQueue', 'perMessageGroupId'];
      if (!allowed.includes(value)) throw invalidAttributeValue(name);
      out[name] = value;
    } else if (name === 'RedrivePolicy') {
      out[name] = value === '' ? '' : checkRedrivePolicy(value, fifo, selfArn, lookup);
    } else if (name === 'RedriveAllowPolicy') {
      out[name] = value === '' ? '' : checkRedriveAllowPolicy(value);
    } else if (kept.has(name)) {
      out[name] = value;
    } else {
      // Read-only (ApproximateNumberOfMessages, QueueArn…) or unknown.
      throw invalidAttributeName(name);
    }
  }
  return out;
}

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

export function parseRedrivePolicy(text: string | undefined): RedrivePolicy | undefined {
  if (!text) return undefined;
  const v = JSON.parse(text) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
  return { deadLetterTargetArn: v.deadLetterTargetArn, maxReceiveCount: Number(v.maxReceiveCount) };
}

function jsonObject(name: string, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw invalidAttributeValue(name, 'Invalid JSON.');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalidAttributeValue(name, 'Invalid JSON.');
  return v as Record<string, unknown>;
}

function checkRedrivePolicy(text: string, fifo: boolean, selfArn: string, lookup: QueueLookup): string {
  const v = jsonObject('RedrivePolicy', text);
  const arn = v.deadLetterTargetArn;
  const count = Number(v.maxReceiveCount);
  if (typeof arn !== 'string') throw invalidAttributeValue('RedrivePolicy', 'Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
  if (v.maxReceiveCount === undefined) throw invalidAttributeValue('RedrivePolicy', 'Redrive policy does not contain mandatory attribute: maxReceiveCount.');
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw invalidAttributeValue('RedrivePolicy', 'Value for maxReceiveCount must be an integer between 1 and 1000.');
  const target = lookup.byArn(arn);
  if (!target || arn === selfArn) throw invalidAttributeValue('RedrivePolicy', 'Dead-letter target does not exist.');
  if (target.fifo !== fifo) throw invalidAttributeValue('RedrivePolicy', 'Dead-letter queue must be same type of queue as the source.');
  const allow = target.attributes.RedriveAllowPolicy ? (JSON.parse(target.attributes.RedriveAllowPolicy) as { redrivePermission: string; sourceQueueArns?: string[] }) : undefined;
  if (allow?.redrivePermission === 'denyAll' || (allow?.redrivePermission === 'byQueue' && !(allow.sourceQueueArns ?? []).includes(selfArn))) {
    throw invalidAttributeValue('RedrivePolicy', "Dead-letter target's RedriveAllowPolicy does not allow this queue.");
  }
  return JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: count });
}

function checkRedriveAllowPolicy(text: string): string {
  const v = jsonObject('RedriveAllowPolicy', text);
  const permission = v.redrivePermission;
  if (permission !== 'allowAll' && permission !== 'denyAll' && permission !== 'byQueue') {
    throw invalidAttributeValue('RedriveAllowPolicy', 'redrivePermission must be allowAll, denyAll or byQueue.');
  }
  const sources = v.sourceQueueArns;
  if (permission === 'byQueue') {
    if (!Array.isArray(sources) || sources.length === 0 || sources.length > 10 || !sources.every((s) => typeof s === 'string')) {
      throw invalidAttributeValue('RedriveAllowPolicy', 'sourceQueueArns must name 1 to 10 queue ARNs with byQueue.');
    }
    return JSON.stringify({ redrivePermission: permission, sourceQueueArns: sources });
  }
  if (sources !== undefined) throw invalidAttributeValue('RedriveAllowPolicy', 'sourceQueueArns is allowed only with byQueue.');
  return JSON.stringify({ redrivePermission: permission });
}

/**
 * CreateQueue on an existing name: the attribute whose value differs, if any (then QueueNameExists). Only the
 * attributes the request names are compared, against the queue's current values or their defaults.
 */
export function differingAttribute(existing: QueueAttributes, requested: QueueAttributes, fifo: boolean): string | undefined {
  const defaults = defaultAttributes(fifo);
  for (const [name, value] of Object.entries(requested)) {
    const current = existing[name] ?? defaults[name] ?? '';
    if (current !== value) return name;
  }
  return undefined;
}

/** `int` of an integer attribute, its default when absent. */
export function intAttribute(attributes: QueueAttributes, name: keyof typeof ranges): number {
  const v = attributes[name];
  return v === undefined || v === '' ? ranges[name][2] : Number(v);
}
