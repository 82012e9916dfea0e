import type { AwsCredentialIdentity } from '@smithy/types';
import type { Logger } from 'pino';
import type { RegistryCredentials } from '../image/image-service.js';
import type { EcrClient } from './aws-json/services.js';
import { StopReasonError } from './task-engine/deps.js';

/** Refresh a token this long before it expires. */
const REFRESH_BEFORE_MS = 60 * 60_000;
/** Execution roles' tokens kept (one per set of credentials; each task's role session is its own). */
const MAX_ROLE_TOKENS = 64;

/** Why a task's registry token could not be had, in ECS's words: the task's stopped reason. */
export class RegistryAuthUnavailableError extends StopReasonError {
  override readonly name = 'RegistryAuthUnavailableError';
}

/** ecr:GetAuthorizationToken made with some credentials: `AWS:<token>` for the registry at proxyEndpoint. */
export type TokenSource = (credentials: AwsCredentialIdentity | undefined) => Promise<{ host: string; credentials: RegistryCredentials; expiresAt: number } | undefined>;

interface Token {
  readonly host: string;
  readonly credentials: RegistryCredentials;
  readonly expiresAt: number;
}

/**
 * Credentials for berth's own registry, as the ECS agent gets them: ecr:GetAuthorizationToken with the task
 * execution role's credentials when the task has an execution role (ecs.capability.execution-role-ecr-pull),
 * else with the agent's own. The token carries who asked for it, so the registry authorizes each pull as
 * that role. Tokens are cached until an hour before they expire: the agent's one, and one per set of
 * execution-role credentials (bounded). Other registries get no credentials from here.
 *
 * A task's execution role refused a token: RegistryAuthUnavailableError with ECS's stopped reason. The
 * agent's own refused: anonymous, as before (the registry then answers the pull with its own refusal).
 */
export class BerthRegistryAuth {
  private agentToken?: Token;
  private pending?: Promise<void>;
  private readonly roleTokens = new Map<string, Promise<Token | undefined>>();
  /** berth's registry host, learnt from the first token's proxyEndpoint. */
  private registryHost?: string;

  constructor(
    private readonly tokens: TokenSource,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The usual source: the agent's ECR client, or a client made with the given credentials. */
  static ecrTokenSource(agentClient: () => Promise<EcrClient>, roleClient: (c: AwsCredentialIdentity) => Promise<EcrClient>): TokenSource {
    return async (credentials) => {
      const ecr = await (credentials ? roleClient(credentials) : agentClient());
      const { authorizationData } = await ecr.send('GetAuthorizationToken', {});
      const data = authorizationData?.[0];
      if (!data?.authorizationToken || !data.proxyEndpoint) return undefined;
      const [username, ...rest] = Buffer.from(data.authorizationToken, 'base64').toString('utf8').split(':');
      return { host: new URL(data.proxyEndpoint).host, credentials: { username: username!, password: rest.join(':') }, expiresAt: data.expiresAt !== undefined ? data.expiresAt * 1000 : Date.now() + 12 * 3_600_000 };
    };
  }

  /**
   * Credentials for `registryHost`, asked for by a pull of a task whose execution role's credentials are
   * `execution` (none: the agent's own).
   */
  async credentialsFor(registryHost: string, execution?: AwsCredentialIdentity): Promise<RegistryCredentials | undefined> {
    // Which host is berth's registry is learnt from a token; the agent's own tells it without risking the
    // task's (a registry elsewhere must not stop a task whose role has no ECR permissions).
    if (!this.registryHost || !execution) await this.agentCredentials();
    if (this.registryHost && !sameHost(this.registryHost, registryHost)) return undefined;
    if (!execution) return this.agentToken && sameHost(this.agentToken.host, registryHost) ? this.agentToken.credentials : undefined;
    const token = await this.roleToken(execution);
    if (!token || !sameHost(token.host, registryHost)) return undefined;
    return token.credentials;
  }

  /** Execution-role tokens cached (for tests and diagnostics). */
  get cachedRoleTokens(): number {
    return this.roleTokens.size;
  }

  private async agentCredentials(): Promise<void> {
    if (this.agentToken && this.now() <= this.agentToken.expiresAt - REFRESH_BEFORE_MS) return;
    this.pending ??= this.tokens(undefined)
      .then((t) => {
        if (!t) return;
        this.agentToken = t;
        this.registryHost = t.host;
      })
      .finally(() => (this.pending = undefined));
    await this.pending.catch((err: unknown) => this.log.warn({ err }, 'could not get a registry token from the control plane'));
  }

  private async roleToken(execution: AwsCredentialIdentity): Promise<Token | undefined> {
    const key = execution.accessKeyId;
    const held = this.roleTokens.get(key);
    if (held) {
      const token = await held.catch(() => undefined);
      if (token && this.now() <= token.expiresAt - REFRESH_BEFORE_MS) return token;
      if (this.roleTokens.get(key) === held) this.roleTokens.delete(key);
    }
    while (this.roleTokens.size >= MAX_ROLE_TOKENS) this.roleTokens.delete(this.roleTokens.keys().next().value!);
    const fetching = this.tokens(execution).then(
      (t) => {
        if (t) this.registryHost ??= t.host;
        return t;
      },
      (err: unknown) => {
        throw new RegistryAuthUnavailableError(
          `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 time(s): ${describe(err)}`,
          { cause: err },
        );
      },
    );
    this.roleTokens.set(key, fetching);
    try {
      return await fetching;
    } catch (err) {
      // A refusal is not remembered: the role's policy may be fixed before the next task.
      if (this.roleTokens.get(key) === fetching) this.roleTokens.delete(key);
      throw err;
    }
  }
}

/** `Code: message` of an SDK error. */
function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

/** Registry hosts compare without default ports and case. */
function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => h.toLowerCase().replace(/:443$/, '');
  return norm(a) === norm(b);
}
