import { createHash, randomUUID } from 'node:crypto';
import type { Principal } from '../api/auth/credentials.js';
import { ServiceError } from '../model/errors.js';
import { invalidParameter, invalidValue, missingParameter } from './errors.js';
import { md5OfAttributes, md5OfBody, transportOf } from './message-md5.js';
import type { Queue } from './queue.js';
import { intAttribute } from './queue-attributes.js';
import type { MessageData, StoredAttribute } from './records.js';

/** One message to send, as SendMessage and each SendMessageBatch entry give it. */
export interface SendEntry {
  readonly MessageBody?: string;
  readonly DelaySeconds?: number;
  readonly MessageAttributes?: Readonly<Record<string, StoredAttribute>>;
  readonly MessageSystemAttributes?: Readonly<Record<string, StoredAttribute>>;
  readonly MessageDeduplicationId?: string;
  readonly MessageGroupId?: string;
}

/** The characters SQS accepts in a body or attribute value (XML's). */
const INVALID_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * A checked message ready for the log, with when it becomes visible: SQS's checks in its order and wording. Pure
 * apart from the message id. `duplicate` is set when a FIFO queue already admitted this deduplication id.
 */
export function prepareSend(queue: Queue, entry: SendEntry, now: number, principal: Principal): { data: MessageData; visibleAt: number } {
  const body = entry.MessageBody;
  if (body === undefined || body.length === 0) throw missingParameter('MessageBody');
  const bad = INVALID_CHARACTER.exec(body);
  if (bad) {
    throw new ServiceError('InvalidMessageContents', `Invalid binary character '#x${bad[0].codePointAt(0)!.toString(16).toUpperCase()}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`);
  }
  const attributes = entry.MessageAttributes;
  const size = Buffer.byteLength(body, 'utf8') + checkAttributes(attributes ?? {});
  const max = intAttribute(queue.data.attributes, 'MaximumMessageSize');
  if (size > max) throw invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`);
  const trace = checkSystemAttributes(entry.MessageSystemAttributes);
  let delay = intAttribute(queue.data.attributes, 'DelaySeconds');
  if (entry.DelaySeconds !== undefined) {
    if (queue.fifo) throw invalidValue('DelaySeconds', entry.DelaySeconds, 'The request include parameter that is not valid for this queue type.');
    if (!Number.isInteger(entry.DelaySeconds) || entry.DelaySeconds < 0 || entry.DelaySeconds > 900) {
      throw invalidValue('DelaySeconds', entry.DelaySeconds, 'DelaySeconds must be >= 0 and <= 900.');
    }
    delay = entry.DelaySeconds;
  }
  let dedupId = entry.MessageDeduplicationId;
  const groupId = entry.MessageGroupId;
  if (queue.fifo) {
    if (groupId === undefined) throw missingParameter('MessageGroupId');
    if (dedupId === undefined) {
      if (queue.data.attributes.ContentBasedDeduplication !== 'true') {
        throw invalidParameter('The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
      dedupId = createHash('sha256').update(body, 'utf8').digest('hex');
    }
    checkToken('MessageGroupId', groupId);
    checkToken('MessageDeduplicationId', dedupId);
  } else if (dedupId !== undefined) {
    throw invalidValue('MessageDeduplicationId', dedupId, 'The request include parameter that is not valid for this queue type');
  } else if (groupId !== undefined) {
    checkToken('MessageGroupId', groupId);
  }
  const data: MessageData = {
    id: randomUUID(),
    body,
    md5Body: md5OfBody(body),
    ...(attributes && Object.keys(attributes).length > 0 ? { attributes } : {}),
    ...(trace !== undefined ? { traceHeader: trace } : {}),
    sentAt: now,
    senderId: senderIdOf(principal),
    ...(groupId !== undefined ? { groupId } : {}),
    ...(queue.fifo && dedupId !== undefined ? { dedupId, seq: String(queue.nextSeq).padStart(20, '0') } : {}),
  };
  return { data, visibleAt: now + delay * 1000 };
}

/** The answer's MD5s for a message as sent. */
export function sendDigests(data: MessageData): { MD5OfMessageBody: string; MD5OfMessageAttributes?: string; MD5OfMessageSystemAttributes?: string } {
  const attrs = md5OfAttributes(binaryDecoded(data.attributes));
  const system = data.traceHeader !== undefined ? md5OfAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: data.traceHeader } }) : undefined;
  return { MD5OfMessageBody: data.md5Body, ...(attrs ? { MD5OfMessageAttributes: attrs } : {}), ...(system ? { MD5OfMessageSystemAttributes: system } : {}) };
}

/** Stored attributes (binary values base64) as the MD5 takes them (bytes). */
export function binaryDecoded(attributes: Readonly<Record<string, StoredAttribute>> | undefined) {
  if (!attributes) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([k, a]) => [k, { DataType: a.DataType, ...(a.StringValue !== undefined ? { StringValue: a.StringValue } : {}), ...(a.BinaryValue !== undefined ? { BinaryValue: Buffer.from(a.BinaryValue, 'base64') } : {}) }]),
  );
}

/** SenderId: the account for root, the user's id, `<role id>:<session>` for a role session. */
function senderIdOf(principal: Principal): string {
  if (principal.type === 'User') return principal.userId;
  if (principal.type === 'AssumedRole') return `${principal.roleId}:${principal.sessionName}`;
  return principal.accountId;
}

function checkToken(field: string, value: string): void {
  if (value.length < 1 || value.length > 128 || !/^[\x21-\x7E]+$/.test(value)) {
    throw invalidValue(field, value, `${field} can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
  }
}

/** Message attributes: at most 10, names and types as SQS allows; returns their size (name, type and value bytes). */
function checkAttributes(attributes: Readonly<Record<string, StoredAttribute>>): number {
  const names = Object.keys(attributes);
  if (names.length > 10) throw invalidParameter(`Number of message attributes [${names.length}] exceeds the allowed maximum [10].`);
  let size = 0;
  for (const name of names) {
    const a = attributes[name]!;
    if (name.length > 256 || !/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..') || /^(aws\.|amazon\.)/i.test(name)) {
      throw invalidParameter(`Message (user) attribute '${name}' is invalid. The attribute name can contain alphanumeric characters, underscores (_), hyphens (-), and periods (.); it must not start or end with a period or contain successive periods, nor start with AWS. or Amazon.`);
    }
    const transport = transportOf(a.DataType);
    if (transport !== 'String' && transport !== 'Number' && transport !== 'Binary') {
      throw invalidParameter(`The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
    }
    if (transport === 'Binary') {
      if (a.BinaryValue === undefined) throw invalidParameter(`Message (user) attribute '${name}' must contain a non-empty value of type '${transport}'.`);
      size += Buffer.from(a.BinaryValue, 'base64').length;
    } else {
      if (a.StringValue === undefined || a.StringValue.length === 0) throw invalidParameter(`Message (user) attribute '${name}' must contain a non-empty value of type '${transport}'.`);
      if (transport === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(a.StringValue)) {
        throw invalidParameter(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
      if (INVALID_CHARACTER.test(a.StringValue)) throw invalidParameter(`Message (user) attribute '${name}' value contains invalid characters.`);
      size += Buffer.byteLength(a.StringValue, 'utf8');
    }
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(a.DataType, 'utf8');
  }
  return size;
}

/** MessageSystemAttributes: only AWSTraceHeader, a String. */
function checkSystemAttributes(system: Readonly<Record<string, StoredAttribute>> | undefined): string | undefined {
  if (!system) return undefined;
  for (const [name, a] of Object.entries(system)) {
    if (name !== 'AWSTraceHeader') throw invalidParameter(`Message system attribute name '${name}' is invalid.`);
    if (a.DataType !== 'String' || a.StringValue === undefined) throw invalidParameter("Message system attribute 'AWSTraceHeader' must be of type String.");
  }
  return system.AWSTraceHeader?.StringValue;
}
