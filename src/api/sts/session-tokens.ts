import { randomBytes } from 'node:crypto';
import type { Sealer } from '../../identity/sealer.js';
import { ServiceError } from '../../model/errors.js';
import type { Credential, CredentialStore, Principal } from '../auth/credentials.js';
import { uniqueId } from '../iam/ids.js';

/**
 * Temporary credentials (AssumeRole, GetSessionToken) without a store write: the session token *is* the session —
 * the access key id, its secret, the principal and the expiry sealed together (identity/sealer.ts, AES-256-GCM under
 * the key-encryption key every replica shares). Any replica verifies a request signed with them by opening the
 * token the request carries; nothing is written per AssumeRole, no lease or TTL record has to be kept and reaped,
 * and a forged or altered token does not open. Like AWS's, a session cannot be revoked before it expires (deleting
 * the role or its policies takes its permissions away instead).
 */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch seconds. */
  readonly expiration: number;
}

interface Claims {
  /** access key id */
  readonly k: string;
  /** secret access key */
  readonly s: string;
  readonly p: Principal;
  /** expiry, epoch ms */
  readonly e: number;
}

/** What tokens are sealed for: a token cannot be passed off as any other sealed value, nor one as a token. */
const CONTEXT = 'sts/session-token';
/** Opened tokens kept, so a request does not pay an AES-GCM open; the oldest goes first beyond this. */
const MAX_CACHED = 10_000;

export class SessionTokens implements CredentialStore {
  private readonly cache = new Map<string, Claims>();

  constructor(
    private readonly sealer: Sealer,
    private readonly now: () => number = Date.now,
  ) {}

  /** New temporary credentials for `principal`, valid `durationSeconds` from now. */
  issue(principal: Principal, durationSeconds: number): TemporaryCredentials {
    const claims: Claims = {
      k: uniqueId('temporaryKey'),
      s: randomBytes(30).toString('base64'),
      p: principal,
      e: Math.floor(this.now() / 1000) * 1000 + durationSeconds * 1000,
    };
    return { accessKeyId: claims.k, secretAccessKey: claims.s, sessionToken: this.sealer.seal(JSON.stringify(claims), CONTEXT), expiration: claims.e / 1000 };
  }

  async lookup(accessKeyId: string, sessionToken?: string): Promise<Credential | undefined> {
    if (!accessKeyId.startsWith('ASIA') || sessionToken === undefined) return undefined;
    const claims = this.open(sessionToken);
    if (!claims || claims.k !== accessKeyId) return undefined;
    if (this.now() >= claims.e) throw new ServiceError('ExpiredTokenException', 'The security token included in the request is expired');
    return { accessKeyId: claims.k, secretAccessKey: claims.s, sessionToken, principal: claims.p };
  }

  private open(token: string): Claims | undefined {
    const cached = this.cache.get(token);
    if (cached) return cached;
    let claims: Claims;
    try {
      claims = JSON.parse(this.sealer.open(token, CONTEXT).toString('utf8')) as Claims;
    } catch {
      return undefined;
    }
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, claims);
    return claims;
  }
}
