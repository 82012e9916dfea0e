/**
 * Registry authentication: anonymous until the registry challenges, then Basic with the caller's
 * credentials, or Bearer with a token from the challenge's realm (OAuth2 refresh-token grant for identity
 * tokens, else GET with Basic credentials or none). Tokens are cached per registry, scope and credentials
 * until they expire, so tasks with different credentials never share a token.
 */
import { createHash } from 'node:crypto';
import type { HttpResponse, HttpTransport } from './http-transport.js';
import type { RegistryCredentials } from './image-service.js';
import { RegistryError, readErrorBody } from './registry-error.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

/** Tokens are renewed this long before the expiry the token server announced. */
const EXPIRY_MARGIN_MS = 10_000;
/** The Docker token spec's default lifetime when the server names none; also the floor. */
const MIN_TOKEN_LIFETIME_S = 60;
const MAX_TOKEN_RESPONSE_BYTES = 1 << 20;

/**
 * Bearer tokens shared by every pull of one image service, one per registry, scope and credentials. Bounded:
 * an agent that pulls from many repositories over months keeps at most `maxEntries`, expired ones first to go,
 * then the oldest (a token dropped early only costs one more token request).
 */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly maxEntries = 256) {}

  get(key: string, now = Date.now()): string | undefined {
    const entry = this.tokens.get(key);
    if (entry && entry.expiresAt > now) return entry.token;
    this.tokens.delete(key);
    return undefined;
  }

  set(key: string, token: string, expiresAt: number, now = Date.now()): void {
    this.tokens.delete(key);
    if (this.tokens.size >= this.maxEntries) {
      for (const [k, e] of this.tokens) if (e.expiresAt <= now) this.tokens.delete(k);
      // Map order is insertion order: the first entries are the oldest.
      for (const k of this.tokens.keys()) {
        if (this.tokens.size < this.maxEntries) break;
        this.tokens.delete(k);
      }
    }
    this.tokens.set(key, { token, expiresAt });
  }

  get size(): number {
    return this.tokens.size;
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}

export interface AuthContext {
  readonly dispatcher: HttpTransport;
  readonly tokens: TokenCache;
  /**
   * The last challenge each registry sent (without its repository scope), shared by all pulls: a later
   * pull answers it straight away instead of first being turned away anonymously.
   */
  readonly challenges: Map<string, Challenge>;
  /** The name the caller's credential callback is asked with (the reference's domain). */
  readonly registry: string;
  /** `repository:<name>:pull` */
  readonly scope: string;
  readonly credentials: () => Promise<RegistryCredentials | undefined>;
  readonly signal?: AbortSignal;
}

/** One pull's authentication state against one repository. */
export class RegistryAuth {
  private challenge: Challenge | undefined;
  /** True while the challenge is one remembered from an earlier pull, not sent to this one. */
  private remembered = false;
  private tokenKey: string | undefined;
  private credentials: Promise<RegistryCredentials | undefined> | undefined;

  constructor(private readonly ctx: AuthContext) {
    this.challenge = ctx.challenges.get(ctx.registry);
    this.remembered = this.challenge !== undefined;
  }

  /** The Authorization header to send, if the registry has challenged before. */
  async header(): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const creds = await this.getCredentials();
      // Without credentials, try anonymously first: the repository may be open even if another was not.
      if (!creds && this.remembered) return undefined;
      if (!creds) throw new RegistryError(`${this.ctx.registry} requires authentication and no credentials were given`, 401, 'UNAUTHORIZED');
      return basicHeader(creds, this.ctx.registry);
    }
    return `Bearer ${await this.bearerToken(challenge)}`;
  }

  /**
   * Adopt the challenge of a 401 answer. Returns false when it offers nothing berth can answer, or repeats
   * a challenge that was already answered (the credentials were refused).
   */
  async onUnauthorized(wwwAuthenticate: string | undefined, answered: boolean): Promise<boolean> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate ?? '');
    const chosen = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']) ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    if (answered && this.tokenKey) this.ctx.tokens.delete(this.tokenKey);
    if (answered && chosen.scheme === 'basic' && !this.remembered) return false;
    this.challenge = chosen;
    this.remembered = false;
    const { scope: _repositoryScope, ...shared } = chosen.params;
    this.ctx.challenges.set(this.ctx.registry, { scheme: chosen.scheme, params: shared });
    return true;
  }

  private getCredentials(): Promise<RegistryCredentials | undefined> {
    this.credentials ??= this.ctx.credentials();
    return this.credentials;
  }

  private async bearerToken(challenge: Challenge): Promise<string> {
    const realm = challenge.params['realm']!;
    const service = challenge.params['service'];
    // The registry's scope wins when it names one (it may ask for more than pull, e.g. on mounts).
    const scope = challenge.params['scope'] ?? this.ctx.scope;
    const creds = await this.getCredentials();
    const key = [this.ctx.registry, realm, service ?? '', scope, credentialKey(creds)].join('\n');
    this.tokenKey = key;
    const cached = this.ctx.tokens.get(key);
    if (cached) return cached;

    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`${this.ctx.registry} sent an invalid token realm "${realm}"`, 401, 'UNAUTHORIZED');
    }
    const form = new URLSearchParams();
    if (service) form.set('service', service);
    form.set('scope', scope);
    let res: HttpResponse;
    try {
      if (creds && 'identityToken' in creds) {
        form.set('grant_type', 'refresh_token');
        form.set('refresh_token', creds.identityToken);
        form.set('client_id', 'berth');
        res = await this.ctx.dispatcher.request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          signal: this.ctx.signal ?? null,
        });
      } else {
        for (const [k, v] of form) url.searchParams.append(k, v);
        res = await this.ctx.dispatcher.request(url, {
          headers: creds ? { authorization: basicHeader(creds, this.ctx.registry) } : {},
          signal: this.ctx.signal ?? null,
        });
      }
    } catch (e) {
      throw new RegistryError(`cannot reach the token server ${url.origin} for ${this.ctx.registry}: ${(e as Error).message}`, undefined, undefined, e);
    }
    if (res.statusCode !== 200) {
      const reason = await readErrorBody(res);
      throw new RegistryError(`token server ${url.origin} answered ${res.statusCode}${reason ? `: ${reason}` : ''}`, res.statusCode, 'UNAUTHORIZED');
    }
    const body = await readLimited(res.body, MAX_TOKEN_RESPONSE_BYTES);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new RegistryError(`token server ${url.origin} answered with something that is not JSON`, 200);
    }
    const token = typeof json['token'] === 'string' ? json['token'] : typeof json['access_token'] === 'string' ? json['access_token'] : undefined;
    if (!token) throw new RegistryError(`token server ${url.origin} answered without a token`, 200);
    const lifetime = Math.max(typeof json['expires_in'] === 'number' ? json['expires_in'] : 0, MIN_TOKEN_LIFETIME_S);
    const issuedAt = typeof json['issued_at'] === 'string' ? Date.parse(json['issued_at']) : NaN;
    const start = Number.isFinite(issuedAt) && issuedAt <= Date.now() ? issuedAt : Date.now();
    this.ctx.tokens.set(key, token, start + lifetime * 1000 - EXPIRY_MARGIN_MS);
    return token;
  }
}

function basicHeader(creds: RegistryCredentials, registry: string): string {
  if (!('username' in creds)) throw new RegistryError(`${registry} asks for Basic authentication, which an identity token cannot answer`, 401, 'UNAUTHORIZED');
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** Identifies credentials in cache keys without keeping the secret itself in memory twice. */
function credentialKey(creds: RegistryCredentials | undefined): string {
  if (!creds) return 'anonymous';
  return createHash('sha256').update(JSON.stringify(creds)).digest('hex');
}

/** Read a whole response body, refusing one larger than `limit` bytes. */
export async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) throw new RegistryError(`response larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
