import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RegistryError } from '../model/registry/errors.js';
import { keys } from '../state/keys.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { recordParser } from '../state/records/codec.js';

/** ECR's login tokens last 12 hours. */
export const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;
const PREFIX = 'berth1';

export interface IssuedToken {
  /** base64 of `AWS:<password>`, as GetAuthorizationToken returns it. */
  readonly authorizationToken: string;
  /** What `aws ecr get-login-password` prints and `docker login -u AWS` takes. */
  readonly password: string;
  readonly expiresAt: number;
}

/** The caller a token was issued to, as the authorization step needs it (carried in the signed claims). */
export interface TokenPrincipal {
  readonly arn: string;
  readonly accountId: string;
  readonly type?: 'Root' | 'User' | 'AssumedRole';
  /** aws:username (IAM users). */
  readonly userName?: string;
  /** aws:userid. */
  readonly userId?: string;
  /** A role session's session policies (AssumeRole Policy/PolicyArns): they narrow its pulls and pushes too. */
  readonly sessionPolicies?: { readonly document?: string; readonly arns?: readonly string[] };
}

/** Who a valid token was issued to. */
export interface TokenClaims {
  /** The caller's ARN. */
  readonly principal: string;
  readonly expiresAt: number;
  /** The caller in full: registry requests are authorized as this principal. */
  readonly caller: TokenPrincipal;
}

/** The claims' JSON: short names, since the token travels in every registry request's Authorization header. */
interface ClaimsJson {
  readonly p: string;
  readonly e: number;
  readonly a?: string;
  readonly t?: TokenPrincipal['type'];
  readonly u?: string;
  readonly i?: string;
  readonly s?: TokenPrincipal['sessionPolicies'];
}

/**
 * Registry login tokens: `berth1.<claims>.<HMAC-SHA256 of the claims>`, base64url, signed with a secret
 * kept in the Store (so every server sharing the store accepts the others' tokens, and the secret never
 * leaves it). A token cannot be forged without the secret and stops working when it expires. The claims
 * carry the principal who asked for the token (GetAuthorizationToken), whose policies then decide each pull
 * and push: a token is not a permission, only an identity.
 */
const parseTokenSecret = recordParser<{ secret: string }>('registry token secret', { secret: 'string' });

export class TokenAuthority {
  private constructor(
    private readonly secret: Buffer,
    private readonly now: () => number,
  ) {}

  /** Load the signing secret from the store, creating it on first use. */
  static async open(store: Store, now: () => number): Promise<TokenAuthority> {
    const secret = await transact(store, async (tx) => {
      const existing = await tx.getRecord(parseTokenSecret, keys.registryTokenSecret());
      if (existing) return existing.secret;
      const fresh = randomBytes(32).toString('base64');
      tx.putJson(keys.registryTokenSecret(), { secret: fresh });
      return fresh;
    });
    return new TokenAuthority(Buffer.from(secret, 'base64'), now);
  }

  issue(principal: string | TokenPrincipal): IssuedToken {
    const expiresAt = this.now() + TOKEN_LIFETIME_MS;
    const who: TokenPrincipal = typeof principal === 'string' ? { arn: principal, accountId: accountOf(principal) } : principal;
    const json: ClaimsJson = {
      p: who.arn,
      e: expiresAt,
      a: who.accountId,
      ...(who.type !== undefined ? { t: who.type } : {}),
      ...(who.userName !== undefined ? { u: who.userName } : {}),
      ...(who.userId !== undefined ? { i: who.userId } : {}),
      ...(who.sessionPolicies !== undefined ? { s: who.sessionPolicies } : {}),
    };
    const claims = Buffer.from(JSON.stringify(json)).toString('base64url');
    const password = `${PREFIX}.${claims}.${this.sign(claims)}`;
    return { authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), password, expiresAt };
  }

  /**
   * Check an Authorization header: `Basic base64(AWS:<password>)`, or `Bearer <password>` (also accepted
   * as the base64 `AWS:<password>` form). Throws UNAUTHORIZED saying why.
   */
  verifyHeader(header: string | undefined): TokenClaims {
    if (!header) throw new RegistryError('UNAUTHORIZED', 'authentication required');
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1 || decoded.slice(0, colon) !== 'AWS') {
        throw new RegistryError('UNAUTHORIZED', "authentication required: log in with user name 'AWS' and the password from aws ecr get-login-password");
      }
      return this.verifyPassword(decoded.slice(colon + 1));
    }
    if (scheme === 'bearer') {
      if (value.startsWith(`${PREFIX}.`)) return this.verifyPassword(value);
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return this.verifyPassword(decoded.startsWith('AWS:') ? decoded.slice(4) : value);
    }
    throw new RegistryError('UNAUTHORIZED', 'authentication required: use Basic or Bearer authorization');
  }

  verifyPassword(password: string): TokenClaims {
    const [prefix, claims, signature, ...rest] = password.split('.');
    if (prefix !== PREFIX || !claims || !signature || rest.length > 0) throw new RegistryError('UNAUTHORIZED', 'authentication required: not a berth registry token');
    const expected = Buffer.from(this.sign(claims));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new RegistryError('UNAUTHORIZED', 'authentication required: the token is not valid for this registry');
    }
    const { p, e, a, t, u, i, s } = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as ClaimsJson;
    if (!(e > this.now())) throw new RegistryError('UNAUTHORIZED', 'authentication required: the token has expired; get a new one with aws ecr get-login-password');
    const caller: TokenPrincipal = {
      arn: p,
      accountId: a ?? accountOf(p),
      ...(t !== undefined ? { type: t } : {}),
      ...(u !== undefined ? { userName: u } : {}),
      ...(i !== undefined ? { userId: i } : {}),
      ...(s !== undefined ? { sessionPolicies: s } : {}),
    };
    return { principal: p, expiresAt: e, caller };
  }

  private sign(claims: string): string {
    return createHmac('sha256', this.secret).update(`${PREFIX}.${claims}`).digest('base64url');
  }
}

/** The account of an IAM or STS ARN (`arn:aws:iam::<account>:…`); empty for anything else. */
function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}
