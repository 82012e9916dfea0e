import type { ErrorObject } from 'ajv';
import type { WireError } from '../api/protocol/json-rpc.js';
import { ServiceError } from '../model/errors.js';

/**
 * Amazon SQS's errors. The model (awsQueryCompatible) names them by shape (`QueueDoesNotExist`); the JSON 1.0 wire
 * carries `com.amazonaws.sqs#<shape>` in `__type` and the Query protocol's code in `x-amzn-query-error`, which the SDKs
 * read as the error's code (boto3's `e.response['Error']['Code']` is `AWS.SimpleQueueService.NonExistentQueue`).
 */
const queryCodes: Readonly<Record<string, string>> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  QueueDeletedRecently: 'AWS.SimpleQueueService.QueueDeletedRecently',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

/** Shapes of the model's errors plus the common ones SQS answers outside the model (InvalidParameterValue, MissingParameter). */
const modelShapes = new Set([...Object.keys(queryCodes), 'ReceiptHandleIsInvalid', 'InvalidAttributeName', 'InvalidAttributeValue', 'InvalidMessageContents', 'OverLimit']);

/** The Query code of an SQS error shape, when it differs from the shape's name. */
export const sqsQueryCode = (type: string): string | undefined => queryCodes[type];

export function sqsWireError(type: string, code: string, status: number): WireError {
  const sender = status >= 500 ? 'Receiver' : 'Sender';
  if (modelShapes.has(type)) return { type: `com.amazonaws.sqs#${type}`, queryError: `${queryCodes[type] ?? type};${sender}` };
  return { type, queryError: `${code};${sender}` };
}

export const queueDoesNotExist = () => new ServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
export const invalidValue = (field: string, value: unknown, reason?: string) =>
  new ServiceError('InvalidParameterValue', `Value ${shown(value)} for parameter ${field} is invalid.${reason ? ` Reason: ${reason}` : ''}`);
export const invalidParameter = (message: string) => new ServiceError('InvalidParameterValue', message);
export const missingParameter = (field: string) => new ServiceError('MissingParameter', `The request must contain the parameter ${field}.`);
export const invalidAttributeValue = (name: string, reason?: string) =>
  new ServiceError('InvalidAttributeValue', `Invalid value for the parameter ${name}.${reason ? ` Reason: ${reason}` : ''}`);
export const invalidAttributeName = (name: string) => new ServiceError('InvalidAttributeName', `Unknown Attribute ${name}.`);
export const receiptHandleInvalid = (handle: string) => new ServiceError('ReceiptHandleIsInvalid', `The input receipt handle "${clip(handle)}" is not a valid receipt handle.`);

const clip = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}…` : text);
function shown(value: unknown): string {
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? `[${value.length} items]` : '{…}';
  return clip(String(value));
}

/** `/Entries/0/Id` → `Entries.1.Id`: the field as SQS's messages name it. */
function fieldOf(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  return parts.map((p) => (/^\d+$/.test(p) ? String(Number(p) + 1) : p.replace(/~1/g, '/').replace(/~0/g, '~'))).join('.');
}

/** A request failing the model's input shape: a missing member is MissingParameter, an unknown attribute name InvalidAttributeName, the rest InvalidParameterValue. */
export function sqsInputError(error: ErrorObject): ServiceError {
  const p = error.params as Record<string, unknown>;
  if (error.keyword === 'required') return missingParameter(fieldOf(error.instancePath, String(p.missingProperty)));
  if (error.keyword === 'enum' && /(AttributeNames|Attributes)(\/|$)/.test(error.instancePath)) return invalidAttributeName(String(error.data));
  if (error.keyword === 'propertyNames' || (error.keyword === 'enum' && error.propertyName !== undefined)) return invalidAttributeName(String(error.propertyName ?? error.data));
  return invalidValue(fieldOf(error.instancePath), error.data);
}
