import { randomInt } from 'node:crypto';
import { invalidParameter } from '../model/errors.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export interface PasswordOptions {
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludePunctuation?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeLowercase?: boolean;
  readonly IncludeSpace?: boolean;
  readonly RequireEachIncludedType?: boolean;
}

/**
 * GetRandomPassword: `PasswordLength` (1–4096, default 32) characters from the classes not excluded, drawn
 * with a CSPRNG; with RequireEachIncludedType (the default) at least one of each class left.
 */
export function randomPassword(options: PasswordOptions): string {
  const length = options.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw invalidParameter('Password length must be between 1 and 4096 characters.');
  }
  const excluded = new Set(options.ExcludeCharacters ?? '');
  const classes = [
    options.ExcludeLowercase ? '' : LOWER,
    options.ExcludeUppercase ? '' : UPPER,
    options.ExcludeNumbers ? '' : DIGITS,
    options.ExcludePunctuation ? '' : PUNCTUATION,
    options.IncludeSpace ? ' ' : '',
  ]
    .map((chars) => [...chars].filter((c) => !excluded.has(c)).join(''))
    .filter((chars) => chars.length > 0);
  if (classes.length === 0) throw invalidParameter('The password cannot be generated: every character was excluded.');
  const requireEach = options.RequireEachIncludedType ?? true;
  if (requireEach && classes.length > length) {
    throw invalidParameter(`Password length ${length} is too short to include a character of each of the ${classes.length} required types.`);
  }
  const all = classes.join('');
  const chars = Array.from({ length }, () => all[randomInt(all.length)]!);
  if (requireEach) {
    // One position per class, chosen without repeats, takes a character of that class.
    const positions = shuffled([...Array(length).keys()]).slice(0, classes.length);
    classes.forEach((cls, i) => (chars[positions[i]!] = cls[randomInt(cls.length)]!));
  }
  return chars.join('');
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
