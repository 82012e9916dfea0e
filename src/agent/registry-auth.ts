import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Logger } from 'pino';
import type { RegistryCredentials } from '../image/image-service.js';

/** Refresh a token this long before it expires. */
const REFRESH_BEFORE_MS = 60 * 60_000;

/**
 * Credentials for berth's own registry, obtained by the agent itself as the ECS agent does with the
 * execution role: ecr:GetAuthorizationToken with the agent's credentials yields `AWS:<password>` for the
 * registry at `proxyEndpoint`. Tokens are cached until an hour before they expire. Other registries get
 * no credentials from here (anonymous pulls).
 */
export class BerthRegistryAuth {
  private cached?: { host: string; credentials: RegistryCredentials; expiresAt: number };
  private pending?: Promise<void>;

  constructor(
    /** The ECR client, made (its SDK package loaded) on the first token asked for. */
    private readonly ecr: () => Promise<ECRClient>,
    private readonly log: Logger,
  ) {}

  async credentialsFor(registryHost: string): Promise<RegistryCredentials | undefined> {
    if (!this.cached || Date.now() > this.cached.expiresAt - REFRESH_BEFORE_MS) {
      this.pending ??= this.refresh().finally(() => (this.pending = undefined));
      await this.pending.catch((err: unknown) => this.log.warn({ err }, 'could not get a registry token from the control plane'));
    }
    return this.cached && sameHost(this.cached.host, registryHost) ? this.cached.credentials : undefined;
  }

  private async refresh(): Promise<void> {
    const [ecr, { GetAuthorizationTokenCommand }] = await Promise.all([this.ecr(), import('@aws-sdk/client-ecr')]);
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    const data = authorizationData?.[0];
    if (!data?.authorizationToken || !data.proxyEndpoint) return;
    const [username, ...rest] = Buffer.from(data.authorizationToken, 'base64').toString('utf8').split(':');
    this.cached = {
      host: new URL(data.proxyEndpoint).host,
      credentials: { username: username!, password: rest.join(':') },
      expiresAt: data.expiresAt?.getTime() ?? Date.now() + 12 * 3_600_000,
    };
  }
}

/** Registry hosts compare without default ports and case. */
function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => h.toLowerCase().replace(/:443$/, '');
  return norm(a) === norm(b);
}
