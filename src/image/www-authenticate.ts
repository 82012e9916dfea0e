/**
 * WWW-Authenticate challenges (RFC 7235) as registries send them:
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:app:pull"` or
 * `Basic realm="Registry"`. Pure: no I/O.
 */

export interface Challenge {
  /** Lowercased scheme: `basic`, `bearer`, … */
  readonly scheme: string;
  /** Parameters with lowercased names. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/** Every challenge in a WWW-Authenticate header value, in order; malformed trailing text is ignored. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let rest = header.trim();
  let current: { scheme: string; params: Record<string, string> } | undefined;
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    const token = TOKEN.exec(rest)?.[0];
    if (!token) break;
    const afterToken = rest.slice(token.length).replace(/^\s+/, '');
    if (current && afterToken.startsWith('=') && !afterToken.startsWith('==')) {
      // name=value: a parameter of the current challenge.
      let value: string;
      let after = afterToken.slice(1).replace(/^\s+/, '');
      if (after.startsWith('"')) {
        const parsed = readQuoted(after);
        value = parsed.value;
        after = parsed.rest;
      } else {
        value = TOKEN.exec(after)?.[0] ?? '';
        after = after.slice(value.length);
      }
      current.params[token.toLowerCase()] = value;
      rest = after;
    } else {
      // A new scheme; token68 credentials (`Basic abc==`) are skipped, registries do not send them.
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
      rest = afterToken;
      if (/^[A-Za-z0-9\-._~+/]+=*\s*(,|$)/.test(rest) && !/^[A-Za-z0-9\-._~+/]+\s*=[^=]/.test(rest)) {
        rest = rest.replace(/^[A-Za-z0-9\-._~+/]+=*/, '');
      }
    }
  }
  return challenges;
}

function readQuoted(text: string): { value: string; rest: string } {
  let value = '';
  let i = 1;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      value += text[++i];
    } else if (c === '"') {
      return { value, rest: text.slice(i + 1) };
    } else {
      value += c;
    }
  }
  return { value, rest: '' };
}
