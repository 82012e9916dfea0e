/**
 * SQS's actions for the authorization step (Service Authorization Reference, "Actions, resources, and condition keys
 * for Amazon SQS"): every queue action is on the queue's ARN; ListQueues on `*`. Queue policies are not evaluated
 * (docs/queues.md).
 */
import { addTagKeys, addTagMap, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';
import type { ArnScope } from '../model/arn.js';

type Input = Record<string, unknown>;

/** The queue named by the URL's last path segment (an unparsable URL fails in the operation). */
const arnOfUrl = (scope: ArnScope, url: unknown) => `arn:aws:sqs:${scope.region}:${scope.accountId}:${String(url).split('/').filter(Boolean).pop() ?? ''}`;

const onUrl = (action: string): ActionDeclaration<Input> => ({
  action,
  resources: (input, scope) => [arnOfUrl(scope, input.QueueUrl)],
  context: (input, _scope, into) => {
    if (input.Tags && typeof input.Tags === 'object') addTagMap(into, input.Tags as Record<string, string>);
    if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
  },
});
const onName = (action: string): ActionDeclaration<Input> => ({
  action,
  resources: (input, scope) => [`arn:aws:sqs:${scope.region}:${scope.accountId}:${String(input.QueueName)}`],
  context: (input, _scope, into) => {
    if (input.tags && typeof input.tags === 'object') addTagMap(into, input.tags as Record<string, string>);
  },
});

export const sqsActions: ActionTable = {
  CreateQueue: onName('sqs:CreateQueue'),
  GetQueueUrl: onName('sqs:GetQueueUrl'),
  ListQueues: anyResource('sqs:ListQueues'),
  GetQueueAttributes: onUrl('sqs:GetQueueAttributes'),
  SetQueueAttributes: onUrl('sqs:SetQueueAttributes'),
  DeleteQueue: onUrl('sqs:DeleteQueue'),
  PurgeQueue: onUrl('sqs:PurgeQueue'),
  TagQueue: onUrl('sqs:TagQueue'),
  UntagQueue: onUrl('sqs:UntagQueue'),
  ListQueueTags: onUrl('sqs:ListQueueTags'),
  ListDeadLetterSourceQueues: onUrl('sqs:ListDeadLetterSourceQueues'),
  // The batch actions are authorized as their single-message actions, as SQS does.
  SendMessage: onUrl('sqs:SendMessage'),
  SendMessageBatch: onUrl('sqs:SendMessage'),
  ReceiveMessage: onUrl('sqs:ReceiveMessage'),
  DeleteMessage: onUrl('sqs:DeleteMessage'),
  DeleteMessageBatch: onUrl('sqs:DeleteMessage'),
  ChangeMessageVisibility: onUrl('sqs:ChangeMessageVisibility'),
  ChangeMessageVisibilityBatch: onUrl('sqs:ChangeMessageVisibility'),
};
