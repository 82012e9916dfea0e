import type { Store } from '../../store/store.js';
import { LogEvents } from './events.js';
import { LogGroups } from './groups.js';
import { LogStreams } from './streams.js';

/**
 * The CloudWatch Logs API's storage: groups, streams and chunk index in the Store (keys.ts), event bytes in
 * immutable chunk files under `dir` (chunk-file.ts). Every replica of the server opens one over the same Store
 * and the same directory (a shared file system, see docs/logs.md); nothing here is owned by one process, so
 * any replica serves any request, and what one acknowledged another reads.
 */
export class LogStorage {
  readonly groups: LogGroups;
  readonly streams: LogStreams;
  readonly events: LogEvents;

  constructor(
    readonly store: Store,
    readonly dir: string,
  ) {
    this.groups = new LogGroups(store);
    this.streams = new LogStreams(store);
    this.events = new LogEvents(store, dir);
  }
}
