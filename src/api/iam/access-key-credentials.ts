import type { Sealer } from '../../identity/sealer.js';
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamAccessKey, type IamAccessKeyRecord } from '../../state/records/iam.js';
import { Informer, type InformerFailure } from '../../store/informer.js';
import type { Store } from '../../store/store.js';
import type { Credential, CredentialStore } from '../auth/credentials.js';

export interface AccessKeyCredentialsOptions {
  readonly store: Store;
  readonly accountId: string;
  readonly sealer: Sealer;
  readonly onError?: (error: unknown, failure: InformerFailure) => void;
}

/**
 * IAM users' access keys as SigV4 sees them: an informer on `iam/access-keys/` keeps every replica's copy in step
 * with the store (a key deleted or made Inactive on any replica stops working here as soon as the watch delivers
 * the change), so a request costs a map lookup, not a store read. A secret is opened (AES-GCM) once per version of
 * its record and kept in memory, never logged.
 */
export class AccessKeyCredentials implements CredentialStore {
  private readonly informer: Informer<IamAccessKeyRecord>;
  private readonly opened = new Map<string, { readonly modRevision: number; readonly credential: Credential }>();

  constructor(private readonly options: AccessKeyCredentialsOptions) {
    this.informer = new Informer({
      store: options.store,
      prefix: iamKeys.accessKeys(),
      parse: parseIamAccessKey,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    this.informer.subscribe({ deleted: (key) => this.opened.delete(key), updated: (key) => this.opened.delete(key) });
  }

  start(): this {
    this.informer.start();
    return this;
  }

  stop(): void {
    this.informer.stop();
    this.opened.clear();
  }

  /** Resolves once the cache has listed the access keys. */
  ready(): Promise<void> {
    return this.informer.ready();
  }

  /**
   * Resolves once the cache holds every change committed before the call, or after `timeoutMs`: the change is
   * committed either way (the watch brings it later), and a store that stopped answering must not hold the caller.
   */
  async caughtUp(timeoutMs = 5_000): Promise<void> {
    await this.informer.waitFor(await this.options.store.revision(), { timeoutMs }).catch(() => undefined);
  }

  async lookup(accessKeyId: string): Promise<Credential | undefined> {
    if (!accessKeyId.startsWith('AKIA')) return undefined;
    const key = iamKeys.accessKey(accessKeyId);
    const entry = this.informer.entry(key);
    if (!entry || entry.value.status !== 'Active') return undefined;
    const cached = this.opened.get(key);
    if (cached && cached.modRevision === entry.modRevision) return cached.credential;
    const record = entry.value;
    const credential: Credential = {
      accessKeyId: record.id,
      secretAccessKey: this.options.sealer.open(record.sealedSecret, key).toString('utf8'),
      principal: { type: 'User', arn: record.userArn, accountId: this.options.accountId, userName: record.userName, userId: record.userId },
    };
    this.opened.set(key, { modRevision: entry.modRevision, credential });
    return credential;
  }
}
