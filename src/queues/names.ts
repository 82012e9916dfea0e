import type { ArnScope } from '../model/arn.js';
import { invalidParameter, queueDoesNotExist } from './errors.js';

/** Queue names, URLs and ARNs. Pure. */

/** 1–80 of letters, digits, `-` and `_`; a FIFO queue's name ends in `.fifo` (counted in the 80). */
export function checkQueueName(name: string, fifo: boolean): void {
  const base = fifo ? name.slice(0, -'.fifo'.length) : name;
  if (fifo && !name.endsWith('.fifo')) {
    throw invalidParameter('The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.');
  }
  if (name.length > 80 || base.length === 0 || !/^[A-Za-z0-9_-]+$/.test(base)) {
    throw invalidParameter(fifo ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.' : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
  }
}

export const queueArn = (scope: ArnScope, name: string) => `arn:aws:sqs:${scope.region}:${scope.accountId}:${name}`;

/** `http://<the Host the client used>/<account>/<name>`: the queue at berth's listener. */
export const queueUrl = (host: string, scope: ArnScope, name: string) => `http://${host}/${scope.accountId}/${name}`;

/** The queue name in a queue URL of this account (any host: clients reach berth by many names). */
export function nameFromUrl(url: string, scope: ArnScope): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '');
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.length !== 2 || parts[0] !== scope.accountId) throw queueDoesNotExist();
  return parts[1]!;
}

/** A request posted to a queue URL's path (`/<12 digits>/<name>`), as older clients send them. */
export const isQueuePath = (path: string) => /^\/\d{12}\/[A-Za-z0-9_.-]{1,80}(\?.*)?$/.test(path);
