import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenAuthConfig } from './docker-registry.js';
import { makeSelfSignedCert } from './self-signed-cert.js';

export interface TokenServer {
  /** What to hand startDockerRegistry({ token }). */
  readonly config: TokenAuthConfig;
  /** Every token request answered, in order (`user` is undefined for anonymous ones). */
  readonly issued: { user: string | undefined; scopes: string[]; granted: boolean }[];
  stop(): Promise<void>;
}

/**
 * A Docker token server for CNCF distribution's `auth: token:` mode: a key and self-signed certificate
 * made with the openssl CLI, RS256 JWTs signed with node:crypto carrying the certificate in `x5c`.
 * Users in `users` (name → password) get what they ask for; anonymous callers get pull access to
 * repositories in `publicRepositories` only; a wrong password is a 401.
 */
export async function startTokenServer(
  options: {
    users?: Record<string, string>;
    /** OAuth2 refresh tokens (identity tokens) → the user they stand for, for `grant_type=refresh_token` POSTs. */
    refreshTokens?: Record<string, string>;
    publicRepositories?: string[];
    lifetimeSeconds?: number;
  } = {},
): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-token-server-'));
  const { keyPath, certPath } = await makeSelfSignedCert(dir, { commonName: 'berth-test-token-issuer' });
  const key = readFileSync(keyPath, 'utf8');
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const issued: TokenServer['issued'] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => answer(req, res, new URLSearchParams(body)));
    } else {
      answer(req, res, new URL(req.url ?? '/', 'http://token').searchParams);
    }
  });

  function answer(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): void {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') return void res.writeHead(404).end();
    let user: string | undefined;
    if (params.get('grant_type') === 'refresh_token') {
      user = options.refreshTokens?.[params.get('refresh_token') ?? ''];
      if (!user) {
        issued.push({ user: undefined, scopes: params.getAll('scope'), granted: false });
        res.writeHead(401, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'unknown refresh token' }));
      }
    }
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [name, password] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (!name || options.users?.[name] === undefined || options.users[name] !== password) {
        issued.push({ user: name, scopes: params.getAll('scope'), granted: false });
        res.writeHead(401, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ details: 'incorrect username or password' }));
      }
      user = name;
    }
    const scopes = params.getAll('scope');
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name || !actions) return [];
      const allowed = user ? actions.split(',') : options.publicRepositories?.includes(name) ? ['pull'] : [];
      return [{ type, name, actions: allowed }];
    });
    issued.push({ user, scopes, granted: true });
    const now = Math.floor(Date.now() / 1000);
    const lifetime = options.lifetimeSeconds ?? 300;
    const token = signJwt(key, certDer, {
      iss: issuer,
      sub: user ?? '',
      aud: params.get('service') ?? service,
      iat: now,
      nbf: now - 5,
      exp: now + lifetime,
      jti: randomUUID(),
      access,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    // OAuth2 answers carry access_token; Docker's GET flow answers token.
    const field = params.get('grant_type') ? 'access_token' : 'token';
    res.end(JSON.stringify({ [field]: token, expires_in: lifetime, issued_at: new Date(now * 1000).toISOString() }));
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    config: { realm: `http://127.0.0.1:${port}/token`, service, issuer, rootCertBundle: certPath },
    issued,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function signJwt(keyPem: string, certDer: string, claims: object): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ typ: 'JWT', alg: 'RS256', x5c: [certDer] })}.${b64(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(keyPem).toString('base64url')}`;
}
