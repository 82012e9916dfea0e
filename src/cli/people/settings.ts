import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CREDENTIALS_PROFILE } from '../../api/auth/credentials.js';
import { DEFAULT_DATA_DIR, DEFAULT_LISTEN } from '../server-command.js';

/** Where the commands for people send their calls, and as whom: flags first, then the environment, then berth's own. */
export interface ClientSettings {
  readonly endpoint: string;
  readonly region: string;
  /** The cluster a command works on when it is not told (the AWS CLI's default is `default` too). */
  readonly cluster: string;
  /**
   * Set when nothing in the environment names credentials and the file `berth server` writes is readable: the
   * variables the SDK's default chain reads to use it (profile `berth`).
   */
  readonly credentialsEnv?: { readonly AWS_SHARED_CREDENTIALS_FILE: string; readonly AWS_PROFILE: string };
}

/** A refusal of the commands for people that says what to do; printed without a stack. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE'];

/** Pure: the settings from flags, the environment and whether a file is readable. */
export function resolveSettings(
  flags: { endpoint?: string | undefined; region?: string | undefined; cluster?: string | undefined },
  env: NodeJS.ProcessEnv,
  readable: (path: string) => boolean,
): ClientSettings {
  const endpoint = flags.endpoint ?? env.BERTH_ENDPOINT ?? env.AWS_ENDPOINT_URL_ECS ?? env.AWS_ENDPOINT_URL ?? `http://${DEFAULT_LISTEN}`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new CliUsageError(`the endpoint '${endpoint}' is not a URL: give --endpoint http://HOST:PORT (or set BERTH_ENDPOINT)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliUsageError(`the endpoint '${endpoint}' is not http(s): give --endpoint http://HOST:PORT`);
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const cluster = flags.cluster ?? env.BERTH_CLUSTER ?? 'default';
  const file = join(env.BERTH_DATA_DIR ?? DEFAULT_DATA_DIR, 'credentials');
  const named = CREDENTIAL_VARIABLES.some((v) => env[v] !== undefined && env[v] !== '');
  return {
    endpoint: endpoint.replace(/\/+$/, ''),
    region,
    cluster,
    ...(!named && readable(file) ? { credentialsEnv: { AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: CREDENTIALS_PROFILE } } : {}),
  };
}

const isReadable = (path: string) => {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};

/** The settings for this process; berth's credentials file is put where the SDK's default chain looks. */
export function clientSettings(flags: { endpoint?: string; region?: string; cluster?: string }): ClientSettings {
  const settings = resolveSettings(flags, process.env, isReadable);
  if (settings.credentialsEnv) Object.assign(process.env, settings.credentialsEnv);
  return settings;
}

/** The SDK client configuration of `settings`. */
export const sdkConfig = (settings: ClientSettings) => ({ endpoint: settings.endpoint, region: settings.region, maxAttempts: 3 });
