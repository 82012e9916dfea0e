import type { ArnScope } from '../model/arn.js';
import { ServiceError } from '../model/errors.js';
import type { Store } from '../store/store.js';

/** What EventBridge needs. */
export interface EventsEnv {
  readonly store: Store;
  readonly scope: ArnScope;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export const DEFAULT_BUS = 'default';
/** Rules per event bus and targets per rule, as EventBridge's quotas set them. */
export const MAX_RULES_PER_BUS = 300;
export const MAX_TARGETS_PER_RULE = 5;

export const validation = (message: string) => new ServiceError('ValidationException', message);
export const notFound = (message: string) => new ServiceError('ResourceNotFoundException', message);
export const ruleNotFound = (rule: string, bus: string) => notFound(`Rule ${rule} does not exist on EventBus ${bus}.`);
export const busNotFound = (bus: string) => notFound(`Event bus ${bus} does not exist.`);

export const busArn = (scope: ArnScope, name: string) => `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${name}`;
export const ruleArn = (scope: ArnScope, bus: string, name: string) =>
  `arn:aws:events:${scope.region}:${scope.accountId}:rule/${bus === DEFAULT_BUS ? '' : `${bus}/`}${name}`;

/** An EventBusName parameter (a name or an event-bus ARN) as the bus's name; absent, the default bus. */
export function busNameOf(nameOrArn: string | undefined): string {
  if (nameOrArn === undefined) return DEFAULT_BUS;
  const m = /^arn:aws[\w-]*:events:[^:]+:\d{12}:event-bus\/(.+)$/.exec(nameOrArn);
  return m ? m[1]! : nameOrArn;
}

/** Tags from the wire's list of {Key, Value}. */
export function tagsOf(list: readonly { Key: string; Value: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((t) => [t.Key, t.Value]));
}

export function tagList(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
