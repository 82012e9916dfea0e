import type { AwsCredentialIdentity } from '@smithy/types';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BerthRegistryAuth, RegistryAuthUnavailableError, type TokenSource } from './registry-auth.js';

const HOST = '127.0.0.1:5000';
const HOUR = 3_600_000;
const role = (key: string): AwsCredentialIdentity => ({ accessKeyId: key, secretAccessKey: 's', sessionToken: 't' });

/** A token source that answers for berth's registry, refusing keys in `refused`, and records who asked. */
function source(now: () => number, refused = new Set<string>()) {
  const asked: string[] = [];
  const tokens: TokenSource = async (c) => {
    const who = c?.accessKeyId ?? 'agent';
    asked.push(who);
    if (refused.has(who)) {
      throw Object.assign(new Error(`User: ${who} is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action`), { name: 'AccessDeniedException' });
    }
    return { host: HOST, credentials: { username: 'AWS', password: `token-of-${who}` }, expiresAt: now() + 12 * HOUR };
  };
  return { tokens, asked };
}

const silent = pino({ level: 'silent' });

describe('BerthRegistryAuth', () => {
  it("a task's pulls get its execution role's token, cached per credentials; the agent's own token otherwise", async () => {
    let now = 1_000_000;
    const { tokens, asked } = source(() => now);
    const auth = new BerthRegistryAuth(tokens, silent, () => now);
    expect(await auth.credentialsFor(HOST)).toEqual({ username: 'AWS', password: 'token-of-agent' });
    expect(await auth.credentialsFor(HOST, role('A'))).toEqual({ username: 'AWS', password: 'token-of-A' });
    expect(await auth.credentialsFor(HOST, role('A'))).toEqual({ username: 'AWS', password: 'token-of-A' });
    expect(await auth.credentialsFor(HOST, role('B'))).toEqual({ username: 'AWS', password: 'token-of-B' });
    expect(asked).toEqual(['agent', 'A', 'B']);
    // Within an hour of expiry: asked again.
    now += 11.5 * HOUR;
    await auth.credentialsFor(HOST, role('A'));
    expect(asked).toEqual(['agent', 'A', 'B', 'A']);
  });

  it('another registry gets nothing, and never costs the role a token', async () => {
    const { tokens, asked } = source(Date.now, new Set(['A']));
    const auth = new BerthRegistryAuth(tokens, silent);
    expect(await auth.credentialsFor('docker.io', role('A'))).toBeUndefined();
    expect(asked).toEqual(['agent']);
  });

  it("a refusal of the role is the task's stopped reason in ECS's words, and is not remembered", async () => {
    const refused = new Set(['A']);
    const { tokens, asked } = source(Date.now, refused);
    const auth = new BerthRegistryAuth(tokens, silent);
    const error = await auth.credentialsFor(HOST, role('A')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthUnavailableError);
    expect((error as Error).message).toBe(
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 time(s): AccessDeniedException: User: A is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action',
    );
    refused.clear();
    expect(await auth.credentialsFor(HOST, role('A'))).toEqual({ username: 'AWS', password: 'token-of-A' });
    expect(asked.filter((w) => w === 'A')).toHaveLength(2);
  });

  it("the agent's own refusal leaves pulls anonymous; the role's token then tells berth's registry", async () => {
    const { tokens, asked } = source(Date.now, new Set(['agent']));
    const auth = new BerthRegistryAuth(tokens, silent);
    expect(await auth.credentialsFor(HOST)).toBeUndefined();
    expect(await auth.credentialsFor(HOST, role('A'))).toEqual({ username: 'AWS', password: 'token-of-A' });
    expect(await auth.credentialsFor('other.example', role('A'))).toBeUndefined();
    expect(asked).toEqual(['agent', 'agent', 'A']);
  });

  it('keeps at most 64 role tokens', async () => {
    const { tokens } = source(Date.now);
    const auth = new BerthRegistryAuth(tokens, silent);
    for (let i = 0; i < 100; i++) await auth.credentialsFor(HOST, role(`K${i}`));
    expect(auth.cachedRoleTokens).toBe(64);
  });
});
