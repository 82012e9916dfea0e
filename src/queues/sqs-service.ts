import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import type { QueryService } from '../api/protocol/query-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import type { SqsEnv } from './env.js';
import { invalidValue, sqsInputError, sqsQueryCode, sqsWireError } from './errors.js';
import { sqsQueryModel } from './query-model.js';
import { sqsActions } from './iam-actions.js';
import * as messages from './message-operations.js';
import * as queues from './queue-operations.js';

/**
 * Amazon SQS (JSON 1.0, X-Amz-Target `AmazonSQS.*`, signed for `sqs`), which the SDK for JavaScript v3, boto3 and
 * recent AWS CLIs send, and the AWS Query protocol (form in, XML out) older AWS CLI v2 releases send. The model is awsQueryCompatible: errors carry their Query codes in `x-amzn-query-error`. The
 * message-move tasks and queue permissions answer UnsupportedFeatureException (docs/queues.md).
 */
export const SQS_TARGET = 'AmazonSQS';

/** The two faces of one implementation: JSON 1.0 and the AWS Query protocol. */
export interface SqsServices {
  readonly json: JsonService;
  readonly query: QueryService;
}

export function sqsServices(env: SqsEnv): SqsServices {
  const operations: Record<string, Operation> = {
    CreateQueue: (input, call) => queues.createQueue(env, input, call),
    GetQueueUrl: (input, call) => queues.getQueueUrl(env, input, call),
    ListQueues: (input, call) => queues.listQueues(env, input, call),
    ListDeadLetterSourceQueues: (input, call) => queues.listDeadLetterSourceQueues(env, input, call),
    GetQueueAttributes: (input) => queues.getQueueAttributes(env, input),
    SetQueueAttributes: (input) => queues.setQueueAttributes(env, input),
    DeleteQueue: (input) => queues.deleteQueue(env, input),
    PurgeQueue: (input) => queues.purgeQueue(env, input),
    TagQueue: (input) => queues.tagQueue(env, input),
    UntagQueue: (input) => queues.untagQueue(env, input),
    ListQueueTags: (input) => queues.listQueueTags(env, input),
    SendMessage: (input, call) => messages.sendMessage(env, input, call),
    SendMessageBatch: (input, call) => messages.sendMessageBatch(env, input, call),
    ReceiveMessage: (input) => messages.receiveMessage(env, input),
    DeleteMessage: (input) => messages.deleteMessage(env, input),
    DeleteMessageBatch: (input) => messages.deleteMessageBatch(env, input),
    ChangeMessageVisibility: (input) => messages.changeMessageVisibility(env, input),
    ChangeMessageVisibilityBatch: (input) => messages.changeMessageVisibilityBatch(env, input),
  };
  const model = loadServiceModel('sqs-2012-11-05.json');
  return {
    json: {
      targetPrefix: SQS_TARGET,
      signingNames: ['sqs'],
      model,
      operations,
      actions: sqsActions,
      // Ten messages of up to 1 MiB each are refused by SQS's own BatchRequestTooLong, not by the listener.
      bodyLimit: 12 * 1024 * 1024,
      inputErrorType: sqsInputError,
      contentType: 'application/x-amz-json-1.0',
      wireError: sqsWireError,
    },
    query: {
      signingName: 'sqs',
      model: sqsQueryModel(model),
      operations,
      actions: sqsActions,
      inputError: sqsInputError,
      scalarError: (text, field) => invalidValue(field, text),
      errorCode: (type, code) => sqsQueryCode(type) ?? code,
    },
  };
}
