import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileExclusively } from '../../files/create-exclusively.js';

/**
 * Who made a request, with what authorization will need of it: the root key pair, an IAM user (by one of its
 * access keys, or temporary credentials from GetSessionToken), or a role assumed with AssumeRole.
 */
export type Principal = RootPrincipal | UserPrincipal | AssumedRolePrincipal;

export interface RootPrincipal {
  readonly type: 'Root';
  /** `arn:aws:iam::<account>:root` */
  readonly arn: string;
  readonly accountId: string;
}

export interface UserPrincipal {
  readonly type: 'User';
  /** `arn:aws:iam::<account>:user<path><name>` */
  readonly arn: string;
  readonly accountId: string;
  readonly userName: string;
  /** The user's unique id (`AIDA…`). */
  readonly userId: string;
}

export interface AssumedRolePrincipal {
  readonly type: 'AssumedRole';
  /** `arn:aws:sts::<account>:assumed-role/<role name>/<session name>` */
  readonly arn: string;
  readonly accountId: string;
  /** `arn:aws:iam::<account>:role<path><name>` */
  readonly roleArn: string;
  readonly roleName: string;
  /** The role's unique id (`AROA…`); the session's user id is `<roleId>:<sessionName>`. */
  readonly roleId: string;
  readonly sessionName: string;
  /** The session policies AssumeRole was given: the session may do only what they allow as well as its role. */
  readonly sessionPolicies?: SessionPolicies;
}

/** AssumeRole's `Policy` (an inline document, as given) and `PolicyArns` (managed policies, read when evaluated). */
export interface SessionPolicies {
  readonly document?: string;
  readonly arns?: readonly string[];
}

export interface Credential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials (task roles, registry tokens) carry a token that must accompany the signature. */
  readonly sessionToken?: string;
  readonly principal: Principal;
}

/**
 * Finds the secret for an access key id (and, for temporary credentials, the session token the request carries).
 * May throw a ServiceError (an expired session token: ExpiredTokenException).
 */
export interface CredentialStore {
  lookup(accessKeyId: string, sessionToken?: string): Promise<Credential | undefined>;
}

/** Tries several stores in order. */
export class CredentialChain implements CredentialStore {
  constructor(private readonly stores: readonly CredentialStore[]) {}
  async lookup(accessKeyId: string, sessionToken?: string): Promise<Credential | undefined> {
    for (const store of this.stores) {
      const found = await store.lookup(accessKeyId, sessionToken);
      if (found) return found;
    }
    return undefined;
  }
}

export class StaticCredentials implements CredentialStore {
  constructor(private readonly credential: Credential) {}
  async lookup(accessKeyId: string): Promise<Credential | undefined> {
    return accessKeyId === this.credential.accessKeyId ? this.credential : undefined;
  }
}

export const rootPrincipal = (accountId: string): RootPrincipal => ({ type: 'Root', arn: `arn:aws:iam::${accountId}:root`, accountId });

export interface RootKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Where the pair came from: the environment, an existing credentials file, or generated just now. */
  readonly source: 'environment' | 'file' | 'generated';
  /** The credentials file, when the pair lives in one. */
  readonly file?: string;
}

export const CREDENTIALS_PROFILE = 'berth';

/**
 * The root key pair: BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY when both are set, else the `berth`
 * profile of `<dataDir>/credentials`, which is generated (mode 0600, AWS shared-credentials format) on
 * first start. Several replicas may start at once on one shared directory: exactly one creates the file,
 * the others read that one, so every replica verifies the same keys.
 */
export function loadRootKeyPair(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): RootKeyPair {
  const id = env.BERTH_ACCESS_KEY_ID;
  const secret = env.BERTH_SECRET_ACCESS_KEY;
  if (id && secret) return { accessKeyId: id, secretAccessKey: secret, source: 'environment' };
  if (id || secret) throw new Error('set both BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY, or neither');
  if (dataDir === undefined) throw new Error('no root credentials: set BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY, or give a data directory');

  const file = join(dataDir, 'credentials');
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    const profile = parseSharedCredentials(text)[CREDENTIALS_PROFILE];
    if (!profile?.aws_access_key_id || !profile.aws_secret_access_key) {
      throw new Error(`${file} has no complete [${CREDENTIALS_PROFILE}] profile`);
    }
    return { accessKeyId: profile.aws_access_key_id, secretAccessKey: profile.aws_secret_access_key, source: 'file', file };
  }

  const pair = { accessKeyId: generateAccessKeyId(), secretAccessKey: generateSecretAccessKey() };
  const created = createFileExclusively(
    file,
    `[${CREDENTIALS_PROFILE}]\naws_access_key_id = ${pair.accessKeyId}\naws_secret_access_key = ${pair.secretAccessKey}\n`,
    0o600,
  );
  // Another replica created it first: use its pair.
  if (!created) return loadRootKeyPair(dataDir, env);
  return { ...pair, source: 'generated', file };
}

/** Parses the INI-style AWS shared credentials format into profile → key → value. */
export function parseSharedCredentials(text: string): Record<string, Record<string, string>> {
  const profiles: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = profiles[section[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current && eq > 0) current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return profiles;
}

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** AKIA followed by 16 base32 characters, the shape of an AWS long-term access key id. */
export function generateAccessKeyId(): string {
  let id = 'AKIA';
  for (let i = 0; i < 16; i++) id += KEY_ID_ALPHABET[randomInt(KEY_ID_ALPHABET.length)];
  return id;
}

/** 40 characters of base64 from 30 random bytes (240 bits). */
export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}
