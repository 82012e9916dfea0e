/**
 * The OCI distribution API, read side, for one repository during one pull: manifests and blobs over
 * Node's http/https (http-transport.ts), answering auth challenges (registry-auth.ts) and following redirects to blob storage without
 * carrying the registry's credentials to another origin.
 */
import type { Readable } from 'node:stream';
import type { HttpResponse, HttpTransport } from './http-transport.js';
import type { RegistryCredentials } from './image-service.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import type { ImageReference } from './reference.js';
import { RegistryAuth, readLimited, type TokenCache } from './registry-auth.js';
import { registryBaseUrl, type InsecureRegistries } from './registry-endpoint.js';
import { RegistryError, readErrorBody } from './registry-error.js';
import type { Challenge } from './www-authenticate.js';

/** Manifests and indexes are small JSON documents; anything bigger is refused before it fills memory. */
export const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** What every pull of one image service shares: connections, tokens, the insecure list. */
export interface RegistryContext {
  readonly dispatcher: HttpTransport;
  readonly tokens: TokenCache;
  readonly challenges: Map<string, Challenge>;
  readonly insecure: InsecureRegistries;
}

export interface FetchedManifest {
  readonly body: Buffer;
  readonly contentType?: string;
  /** The registry's Docker-Content-Digest header, when it sent one. */
  readonly declaredDigest?: string;
}

export class RepositoryClient {
  private readonly baseUrl: string;
  private readonly auth: RegistryAuth;
  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly ref: ImageReference,
    private readonly ctx: RegistryContext,
    options: { credentials?: (registry: string) => Promise<RegistryCredentials | undefined>; signal?: AbortSignal },
  ) {
    this.baseUrl = registryBaseUrl(ref.domain, ctx.insecure);
    const credentials = options.credentials;
    this.signal = options.signal;
    this.auth = new RegistryAuth({
      dispatcher: ctx.dispatcher,
      tokens: ctx.tokens,
      challenges: ctx.challenges,
      registry: ref.domain,
      scope: `repository:${ref.repository}:pull`,
      credentials: credentials ? () => credentials(ref.domain) : async () => undefined,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** GET a manifest by tag or digest. */
  async manifest(tagOrDigest: string): Promise<FetchedManifest> {
    const res = await this.get(`manifests/${tagOrDigest}`, { accept: MANIFEST_ACCEPT }, `manifest "${tagOrDigest}"`);
    const body = await readLimited(res.body, MAX_MANIFEST_BYTES).catch((e: unknown) => {
      throw new RegistryError(`manifest ${tagOrDigest}: ${(e as Error).message}`, undefined, undefined, e);
    });
    const contentType = header(res, 'content-type');
    const declaredDigest = header(res, 'docker-content-digest');
    return { body, ...(contentType ? { contentType } : {}), ...(declaredDigest ? { declaredDigest } : {}) };
  }

  /** GET a blob; the caller reads (and verifies) the stream. `signal` replaces the pull's own. */
  async blob(digest: string, signal?: AbortSignal): Promise<Readable> {
    const res = await this.get(`blobs/${digest}`, {}, `blob ${digest}`, signal);
    return res.body;
  }

  private async get(path: string, headers: Record<string, string>, what: string, signal = this.signal): Promise<HttpResponse> {
    const url = new URL(`${this.baseUrl}/v2/${this.ref.repository}/${path}`);
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth.header();
      const res = await this.send(url, headers, authorization, what, signal);
      if (res.statusCode === 401 && attempt < 2) {
        const retry = await this.auth.onUnauthorized(header(res, 'www-authenticate'), authorization !== undefined);
        if (retry) {
          await res.body.dump();
          continue;
        }
      }
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      const reason = await readErrorBody(res);
      const code = /^([A-Z_]+)(?::|$)/.exec(reason)?.[1];
      throw new RegistryError(`${what}: ${this.ref.domain} answered ${res.statusCode}${reason ? `: ${reason}` : ''}`, res.statusCode, code);
    }
  }

  /** One request, following redirects; the Authorization header goes only to the registry's own origin. */
  private async send(
    start: URL,
    headers: Record<string, string>,
    authorization: string | undefined,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    let url = start;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let res: HttpResponse;
      try {
        res = await this.ctx.dispatcher.request(url, {
          headers: { ...headers, ...(authorization && url.origin === start.origin ? { authorization } : {}) },
          signal: signal ?? null,
        });
      } catch (e) {
        if (signal?.aborted) throw e;
        throw new RegistryError(`${what}: cannot reach ${url.host}: ${describeNetworkError(e)}`, undefined, undefined, e);
      }
      const location = header(res, 'location');
      if (!REDIRECT_STATUSES.has(res.statusCode) || !location) return res;
      await res.body.dump();
      url = new URL(location, url);
    }
    throw new RegistryError(`${what}: more than ${MAX_REDIRECTS} redirects`);
  }
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The useful words of a socket error (ECONNREFUSED, certificate problems), which a wrapper may keep in its cause. */
function describeNetworkError(e: unknown): string {
  const err = e as Error & { code?: string; cause?: Error & { code?: string } };
  const inner = err.cause ?? err;
  if (inner.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(inner.message)) {
    return 'the TLS handshake failed: it does not seem to speak HTTPS (a plain-HTTP registry must be listed as insecure)';
  }
  return [inner.message, inner.code && !inner.message.includes(inner.code) ? `(${inner.code})` : ''].filter(Boolean).join(' ');
}
