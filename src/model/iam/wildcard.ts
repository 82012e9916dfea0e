/**
 * IAM's wildcard patterns (`*` any run of characters, `?` exactly one), compiled once when a policy is parsed so
 * that evaluation only runs the cheapest test each pattern allows: exact, prefix, or a regular expression.
 *
 * Three flavours, because IAM matches the three places differently:
 * - actions: case-insensitive, `*` spans everything (`ecs:Describe*`, `*`);
 * - strings (`StringLike`): case-sensitive, `*` spans everything;
 * - ARNs (`Resource`, `ArnLike`): case-sensitive and segment-aware. IAM checks each colon-separated segment on its
 *   own, but "if the * wildcard is the last character of a resource ARN segment, it can expand to match beyond the
 *   colon boundaries" (IAM User Guide, "IAM JSON policy elements: Resource"), so `arn:aws:ecs:*` covers every ECS
 *   ARN while `arn:aws:logs:*:*:log-group:a*b` cannot hide a colon inside `a*b`.
 *
 * Patterns are token lists so that text substituted for a policy variable (`${aws:username}`) stays literal even
 * when it contains `*` or `?`.
 */

/** A compiled pattern: `test` answers whether a (lower-cased, for actions) value matches. */
export interface Matcher {
  readonly source: string;
  test(value: string): boolean;
}

export type GlobFlavour = 'action' | 'string' | 'arn';

/** A pattern as literal runs and wildcards. */
export type GlobToken = { readonly lit: string } | '*' | '?';

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** Splits pattern text into tokens (every `*` and `?` is a wildcard: IAM has no escape inside plain text). */
export function globTokens(text: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  let lit = '';
  for (const c of text) {
    if (c === '*' || c === '?') {
      if (lit) tokens.push({ lit });
      lit = '';
      tokens.push(c);
    } else lit += c;
  }
  if (lit) tokens.push({ lit });
  return tokens;
}

/** The cheapest matcher for a token list. */
export function compileTokens(source: string, tokens: readonly GlobToken[], flavour: GlobFlavour): Matcher {
  const norm = (s: string) => (flavour === 'action' ? s.toLowerCase() : s);
  if (tokens.every((t) => typeof t !== 'string')) {
    const exact = norm(tokens.map((t) => (t as { lit: string }).lit).join(''));
    return { source, test: (value) => value === exact };
  }
  const last = tokens.length - 1;
  if (tokens.length === 1 && tokens[0] === '*') return { source, test: () => true };
  // `prefix*` is by far the commonest form (`ecs:Describe*`, `arn:...:cluster/*`); a trailing `*` spans colons
  // in every flavour.
  if (tokens.length === 2 && tokens[1] === '*' && typeof tokens[0] !== 'string') {
    const prefix = norm(tokens[0]!.lit);
    return { source, test: (value) => value.startsWith(prefix) };
  }
  let body = '';
  tokens.forEach((t, i) => {
    if (t === '*') {
      const next = tokens[i + 1];
      const endsSegment = i === last || (next !== undefined && typeof next !== 'string' && next.lit.startsWith(':'));
      body += flavour === 'arn' && !endsSegment ? '[^:]*' : '.*';
    } else if (t === '?') body += flavour === 'arn' ? '[^:]' : '.';
    else body += escapeRegExp(norm(t.lit));
  });
  const re = new RegExp(`^${body}$`, 's');
  return { source, test: (value) => re.test(value) };
}

/** Compiles pattern text of the given flavour (actions match lower-cased request actions). */
export const compileGlob = (pattern: string, flavour: GlobFlavour): Matcher => compileTokens(pattern, globTokens(pattern), flavour);
