import type { Principal } from '../api/auth/credentials.js';
import { queueDoesNotExist } from './errors.js';
import type { QueueHost } from './queue-host.js';
import { prepareSend } from './send.js';

/**
 * A message sent by berth itself (EventBridge's dead-letter queues) to the queue with this ARN, with String message
 * attributes, as `sender` would send it; resolves once it is durable. The same checks as SendMessage.
 */
export async function sendToQueue(host: QueueHost, arn: string, body: string, attributes: Readonly<Record<string, string>>, sender: Principal): Promise<void> {
  const queue = host.engine.byArn(arn);
  if (!queue) throw queueDoesNotExist();
  const MessageAttributes = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
  const { data, visibleAt } = prepareSend(queue, { MessageBody: body, MessageAttributes }, host.now(), sender);
  host.engine.commit({ t: 'send', q: queue.data.name, m: data, visibleAt });
  await host.durable();
}
