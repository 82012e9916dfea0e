import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Principal } from '../api/auth/credentials.js';
import type { Operation } from '../api/protocol/json-rpc.js';

/**
 * The credentials the netns provisioner's agents sign with — what an instance profile gives an EC2 host: an IAM
 * user of berth's own, `berth-netns-hosts` (path `/berth/`), with AmazonEC2ContainerServiceforEC2Role attached, so a
 * simulated host can do what an ECS host may and nothing else. IAM shows a key's secret only when it is created, so
 * it is kept in a file (mode 0600) beside the hosts' directories; a key whose file is lost (or that was deleted
 * through IAM) is replaced, the user's other keys deleted with it (their secrets are nowhere).
 */
export const HOST_USER = 'berth-netns-hosts';
const INSTANCE_ROLE_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role';

export interface HostKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface HostCredentialOptions {
  /** IAM's operations (api/iam), called in process as the root principal. */
  readonly iam: Readonly<Record<string, Operation>>;
  readonly principal: Principal;
  readonly file: string;
  /** Until the credential informers have the new key (a host's first request must find it). */
  readonly caughtUp: () => Promise<void>;
  readonly log: Logger;
}

export function hostCredentials(options: HostCredentialOptions): () => Promise<HostKeys> {
  let pending: Promise<HostKeys> | undefined;
  return () => {
    // Once per process; a failure is tried again at the next host.
    pending ??= ensure(options).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function ensure(options: HostCredentialOptions): Promise<HostKeys> {
  const call = (op: string, input: object) =>
    options.iam[op]!(input, { principal: options.principal, requestId: randomUUID(), log: options.log as never, host: '' }) as Promise<Record<string, any>>;
  await call('CreateUser', { UserName: HOST_USER, Path: '/berth/' }).catch((error: { type?: string }) => {
    if (error.type !== 'EntityAlreadyExists') throw error;
  });
  await call('AttachUserPolicy', { UserName: HOST_USER, PolicyArn: INSTANCE_ROLE_POLICY });
  const existing = ((await call('ListAccessKeys', { UserName: HOST_USER })).AccessKeyMetadata ?? []) as { AccessKeyId: string }[];
  const saved = existsSync(options.file) ? (JSON.parse(readFileSync(options.file, 'utf8')) as HostKeys) : undefined;
  if (saved && existing.some((k) => k.AccessKeyId === saved.accessKeyId)) return saved;
  for (const k of existing) await call('DeleteAccessKey', { UserName: HOST_USER, AccessKeyId: k.AccessKeyId });
  const { AccessKey } = await call('CreateAccessKey', { UserName: HOST_USER });
  const keys: HostKeys = { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  writeFileSync(options.file, JSON.stringify(keys), { mode: 0o600 });
  await options.caughtUp();
  options.log.info({ user: HOST_USER, accessKeyId: keys.accessKeyId }, 'created the access key netns hosts sign with');
  return keys;
}
