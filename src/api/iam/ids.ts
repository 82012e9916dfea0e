import { randomInt } from 'node:crypto';

/** IAM's unique-id prefixes, by what they name (IAM User Guide, "Unique identifiers"). */
export const idPrefixes = { user: 'AIDA', group: 'AGPA', role: 'AROA', policy: 'ANPA', accessKey: 'AKIA', temporaryKey: 'ASIA' } as const;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A unique id as IAM makes them: its prefix and base32 characters, 21 in all (access key ids 20). */
export function uniqueId(kind: keyof typeof idPrefixes): string {
  let id: string = idPrefixes[kind];
  const length = kind === 'accessKey' || kind === 'temporaryKey' ? 20 : 21;
  while (id.length < length) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export type EntityKind = 'user' | 'group' | 'role' | 'policy';

/** `arn:aws:iam::<account>:<kind><path><name>` (the path starts and ends with `/`). */
export const iamArn = (accountId: string, kind: EntityKind, path: string, name: string) => `arn:aws:iam::${accountId}:${kind}${path}${name}`;

/**
 * A policy ARN's parts: `arn:aws:iam::<account or "aws">:policy<path><name>`; undefined when it is not one. The
 * path is everything between `policy` and the last `/`.
 */
export function parsePolicyArn(arn: string): { account: string; path: string; name: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}|aws):policy(\/(?:[^/]+\/)*)([^/]+)$/.exec(arn);
  return m ? { account: m[1]!, path: m[2]!, name: m[3]! } : undefined;
}

/** A role ARN's parts, or undefined. */
export function parseRoleArn(arn: string): { account: string; path: string; name: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):role(\/(?:[^/]+\/)*)([^/]+)$/.exec(arn);
  return m ? { account: m[1]!, path: m[2]!, name: m[3]! } : undefined;
}
