import type { AwsCredentialIdentity } from '@smithy/types';
import type { RoleCredentials } from '../model/acs.js';

/** A role's credentials as the AWS SDK takes them. */
export function identityOf(c: RoleCredentials): AwsCredentialIdentity {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) };
}

/**
 * SDK clients (or anything made from credentials), one per set of credentials, at most `max` kept: the
 * least recently used is destroyed when another is needed. Keyed by the access key id, which changes when
 * the control plane renews a task's credentials — renewed credentials get a fresh client, and the old one
 * ages out. Tasks' execution roles differ task by task (each task's session is its own), hence the bound.
 */
export class ClientsByCredentials<T extends { destroy(): void }> {
  private readonly clients = new Map<string, Promise<T>>();

  constructor(
    private readonly make: (credentials: AwsCredentialIdentity) => Promise<T>,
    private readonly max = 32,
  ) {}

  get(credentials: AwsCredentialIdentity): Promise<T> {
    const key = credentials.accessKeyId;
    const held = this.clients.get(key);
    if (held) {
      // Map order is insertion order: moved to the end, it is the most recently used.
      this.clients.delete(key);
      this.clients.set(key, held);
      return held;
    }
    while (this.clients.size >= this.max) {
      const [oldest, client] = this.clients.entries().next().value as [string, Promise<T>];
      this.clients.delete(oldest);
      void client.then((c) => c.destroy(), () => {});
    }
    const made = this.make(credentials);
    // A client that could not be made is not remembered: the next call tries again.
    made.catch(() => this.clients.get(key) === made && this.clients.delete(key));
    this.clients.set(key, made);
    return made;
  }

  get size(): number {
    return this.clients.size;
  }

  destroy(): void {
    for (const c of this.clients.values()) void c.then((x) => x.destroy(), () => {});
    this.clients.clear();
  }
}
