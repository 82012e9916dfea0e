import type { MemberRef, ServiceModel, Shape } from '../api/protocol/service-model.js';

/**
 * SQS's AWS Query protocol (what the AWS CLI v2 of Debian 12 still sends), derived from the JSON model: the same
 * shapes with the Query wire names the JSON model no longer carries — flattened lists and maps named by their
 * singular (`AttributeName.1`, `Attribute.1.Name`, `SendMessageBatchRequestEntry.1.Id`, `<Message>` repeated), as SQS's
 * Query API documents them. Pure.
 */
const LIST_MEMBERS: Readonly<Record<string, string>> = {
  AttributeNameList: 'AttributeName',
  MessageAttributeNameList: 'MessageAttributeName',
  MessageSystemAttributeList: 'MessageSystemAttributeName',
  TagKeyList: 'TagKey',
  QueueUrlList: 'QueueUrl',
  MessageList: 'Message',
  SendMessageBatchRequestEntryList: 'SendMessageBatchRequestEntry',
  DeleteMessageBatchRequestEntryList: 'DeleteMessageBatchRequestEntry',
  ChangeMessageVisibilityBatchRequestEntryList: 'ChangeMessageVisibilityBatchRequestEntry',
  SendMessageBatchResultEntryList: 'SendMessageBatchResultEntry',
  DeleteMessageBatchResultEntryList: 'DeleteMessageBatchResultEntry',
  ChangeMessageVisibilityBatchResultEntryList: 'ChangeMessageVisibilityBatchResultEntry',
  BatchResultErrorEntryList: 'BatchResultErrorEntry',
  StringList: 'StringListValue',
  BinaryList: 'BinaryListValue',
};

/** Map members' wire names, and their key/value names. */
const MAP_MEMBERS: Readonly<Record<string, string>> = {
  Attributes: 'Attribute',
  MessageAttributes: 'MessageAttribute',
  MessageSystemAttributes: 'MessageSystemAttribute',
  Tags: 'Tag',
  tags: 'Tag',
};

export function sqsQueryModel(json: ServiceModel): ServiceModel {
  const shapes: Record<string, Shape> = {};
  for (const [name, shape] of Object.entries(json.shapes)) {
    if (shape.type === 'list' && LIST_MEMBERS[name]) {
      shapes[name] = { ...shape, flattened: true, member: { ...shape.member, locationName: LIST_MEMBERS[name] } };
    } else if (shape.type === 'map') {
      const tags = name === 'TagMap';
      shapes[name] = { ...shape, key: { ...shape.key, locationName: tags ? 'Key' : 'Name' }, value: { ...shape.value, locationName: 'Value' } };
    } else {
      shapes[name] = shape;
    }
  }
  for (const [name, shape] of Object.entries(shapes)) {
    if (shape.type !== 'structure') continue;
    const members: Record<string, MemberRef> = {};
    for (const [member, ref] of Object.entries(shape.members)) {
      const target = shapes[ref.shape];
      if (target?.type === 'list' && LIST_MEMBERS[ref.shape]) members[member] = { ...ref, flattened: true, locationName: LIST_MEMBERS[ref.shape]! };
      else if (target?.type === 'map') members[member] = { ...ref, flattened: true, locationName: MAP_MEMBERS[member] ?? member };
      else members[member] = ref;
    }
    shapes[name] = { ...shape, members };
  }
  const operations = Object.fromEntries(
    Object.entries(json.operations).map(([name, op]) => [name, op.output ? { ...op, output: { ...op.output, resultWrapper: `${name}Result` } } : op]),
  );
  return {
    ...json,
    metadata: { ...json.metadata, protocol: 'query', apiVersion: json.metadata.apiVersion ?? '2012-11-05', xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/' },
    operations,
    shapes,
  };
}
