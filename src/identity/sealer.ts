import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileExclusively } from '../files/create-exclusively.js';

/**
 * Encryption at rest for what must never be stored in clear (secret values, SecureString parameters, IAM secret
 * access keys): AES-256-GCM under a key-encryption key (KEK) that lives outside the store, so a copy of the
 * store (an etcd snapshot, a SQLite backup) reveals nothing without the key file.
 *
 * A sealed value is `s1.<kid>.<base64url(iv ‖ ciphertext ‖ tag)>`. The caller's `context` (the record's key)
 * is authenticated data: a sealed value moved to another record does not open.
 *
 * Rotation: the key ring holds several keys, the first seals and all open. To rotate, add a new line at the
 * top of the key file (or of BERTH_KEK), restart the replicas, and let values be re-sealed as they are next
 * written; a value sealed under a key no longer in the ring cannot be opened, so keep old keys until then.
 */
export interface Sealer {
  seal(plaintext: string | Buffer, context: string): string;
  /** Throws `SealError` when the value was sealed under an unknown key, altered, or moved to another context. */
  open(sealed: string, context: string): Buffer;
  /** Whether a sealed value was sealed under an older key of the ring (re-seal it on its next write). */
  isStale(sealed: string): boolean;
}

export class SealError extends Error {
  override readonly name = 'SealError';
}

const FORMAT = 's1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface KeyRingEntry {
  readonly id: string;
  readonly key: Buffer;
}

/** AES-256-GCM over a key ring; the first key seals. */
export class KeyRingSealer implements Sealer {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly primary: KeyRingEntry;

  constructor(ring: readonly KeyRingEntry[]) {
    if (ring.length === 0) throw new Error('the key ring is empty');
    for (const { id, key } of ring) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`key id "${id}" must be 1-32 letters, digits, _ or -`);
      if (key.length !== KEY_BYTES) throw new Error(`key "${id}" must be ${KEY_BYTES} bytes, not ${key.length}`);
    }
    this.primary = ring[0]!;
    this.keys = new Map(ring.map((e) => [e.id, e.key]));
  }

  seal(plaintext: string | Buffer, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.primary.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([iv, cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${this.primary.id}.${body.toString('base64url')}`;
  }

  open(sealed: string, context: string): Buffer {
    const [format, id, body, extra] = sealed.split('.');
    if (format !== FORMAT || id === undefined || body === undefined || extra !== undefined) throw new SealError('not a sealed value');
    const key = this.keys.get(id);
    if (!key) throw new SealError(`sealed under key "${id}", which is not in the key ring`);
    const bytes = Buffer.from(body, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SealError('sealed value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new SealError('sealed value does not authenticate (altered, or not sealed for this record)');
    }
  }

  isStale(sealed: string): boolean {
    return sealed.split('.', 2)[1] !== this.primary.id;
  }
}

/** Parses key-ring text: one `<id> <base64 key>` per line, the first seals; `#` starts a comment. */
export function parseKeyRing(text: string, source: string): KeyRingEntry[] {
  const ring: KeyRingEntry[] = [];
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [id, b64, extra] = line.split(/\s+/);
    if (!id || !b64 || extra !== undefined) throw new Error(`${source} line ${n + 1}: expected "<key id> <base64 key>"`);
    ring.push({ id, key: Buffer.from(b64, 'base64') });
  }
  if (ring.length === 0) throw new Error(`${source} holds no key`);
  return ring;
}

export const KEK_FILE = 'kek';

/**
 * The server's key ring: BERTH_KEK (key-ring text, for operators who keep the key in a secret manager of their
 * own), else `<dataDir>/kek`, generated (mode 0600) on first start. Replicas starting together on one shared
 * directory all end up with the one file that won the exclusive create.
 */
export function loadSealer(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): KeyRingSealer {
  if (env.BERTH_KEK) return new KeyRingSealer(parseKeyRing(env.BERTH_KEK, 'BERTH_KEK'));
  if (dataDir === undefined) throw new Error('no key-encryption key: set BERTH_KEK or give a data directory');
  const file = join(dataDir, KEK_FILE);
  try {
    return new KeyRingSealer(parseKeyRing(readFileSync(file, 'utf8'), file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  createFileExclusively(file, `# berth key-encryption key ring: the first key seals, every key opens\n${id} ${randomBytes(KEY_BYTES).toString('base64')}\n`, 0o600);
  return new KeyRingSealer(parseKeyRing(readFileSync(file, 'utf8'), file));
}
