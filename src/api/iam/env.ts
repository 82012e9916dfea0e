import type { Sealer } from '../../identity/sealer.js';
import type { Store } from '../../store/store.js';

/** What the IAM and STS operations need from the server. */
export interface IamEnv {
  readonly store: Store;
  readonly accountId: string;
  readonly sealer: Sealer;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /**
   * Resolves once this replica's credential cache has seen the store's current revision: a key deleted or
   * deactivated is refused by this replica as soon as the call that did it has answered.
   */
  readonly credentialsCaughtUp?: () => Promise<void>;
}
