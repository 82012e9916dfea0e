/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, and the escapes `${*}`, `${?}`,
 * `${$}`), allowed in `Resource`/`NotResource` and condition values of `"Version": "2012-10-17"` documents only
 * (IAM User Guide, "IAM policy elements: Variables and tags"). A variable whose key is absent from the request
 * (and that has no default) makes its pattern match nothing; so does a multivalued key.
 */
import { compileTokens, globTokens, type GlobFlavour, type GlobToken, type Matcher } from './wildcard.js';

/** Looks a condition key up in the request context (case-insensitively); undefined when absent. */
export type ContextLookup = (key: string) => string | readonly string[] | undefined;

type Part = { readonly glob: string } | { readonly literal: string } | { readonly key: string; readonly fallback?: string };

const VARIABLE = /\$\{([^}]*)\}/g;
const BODY = /^\s*([A-Za-z0-9:/._-]+)\s*(?:,\s*'([^']*)'\s*)?$/;

/** A value or pattern from a policy, with its variables resolved per request. */
export interface Template {
  readonly source: string;
  readonly hasVariables: boolean;
  /** The value with variables substituted (escapes become their characters), or undefined when one is missing. */
  text(lookup: ContextLookup): string | undefined;
  /** The value as a wildcard pattern of `flavour`; substituted text stays literal. */
  matcher(lookup: ContextLookup, flavour: GlobFlavour): Matcher | undefined;
}

/** Parses `${...}` in `source` (or, for 2008-10-17 documents, takes it as plain text). */
export function parseTemplate(source: string, variablesAllowed: boolean): Template {
  const parts: Part[] = [];
  let last = 0;
  if (variablesAllowed) {
    for (const m of source.matchAll(VARIABLE)) {
      const body = m[1]!.trim();
      const special = body === '*' || body === '?' || body === '$';
      const parsed = special ? undefined : BODY.exec(m[1]!);
      // Text that only looks like a variable (`${}`, `${a b}`) is kept as it is, as IAM does.
      if (!special && !parsed) continue;
      if (m.index > last) parts.push({ glob: source.slice(last, m.index) });
      if (special) parts.push({ literal: body });
      else parts.push(parsed![2] === undefined ? { key: parsed![1]! } : { key: parsed![1]!, fallback: parsed![2]! });
      last = m.index + m[0].length;
    }
  }
  if (last < source.length) parts.push({ glob: source.slice(last) });
  const hasVariables = parts.some((p) => 'key' in p || 'literal' in p);
  if (!hasVariables) {
    const cache = new Map<GlobFlavour, Matcher>();
    return {
      source,
      hasVariables,
      text: () => source,
      matcher: (_lookup, flavour) => {
        let m = cache.get(flavour);
        if (!m) cache.set(flavour, (m = compileTokens(source, globTokens(source), flavour)));
        return m;
      },
    };
  }
  const resolve = (lookup: ContextLookup): string[] | undefined => {
    const values: string[] = [];
    for (const p of parts) {
      if ('key' in p) {
        const v = lookup(p.key);
        if (typeof v === 'string') values.push(v);
        else if (v === undefined && p.fallback !== undefined) values.push(p.fallback);
        else return undefined;
      }
    }
    return values;
  };
  // Matchers built for recently seen substitutions, so a steady stream of one user's requests compiles once.
  const cache = new Map<string, Matcher>();
  return {
    source,
    hasVariables,
    text(lookup) {
      const values = resolve(lookup);
      if (!values) return undefined;
      let k = 0;
      return parts.map((p) => ('glob' in p ? p.glob : 'literal' in p ? p.literal : values[k++]!)).join('');
    },
    matcher(lookup, flavour) {
      const values = resolve(lookup);
      if (!values) return undefined;
      const cacheKey = `${flavour}\u0000${values.join('\u0000')}`;
      const hit = cache.get(cacheKey);
      if (hit) return hit;
      const tokens: GlobToken[] = [];
      let k = 0;
      for (const p of parts) {
        if ('glob' in p) tokens.push(...globTokens(p.glob));
        else tokens.push({ lit: 'literal' in p ? p.literal : values[k++]! });
      }
      const m = compileTokens(source, mergeLiterals(tokens), flavour);
      if (cache.size >= 256) cache.clear();
      cache.set(cacheKey, m);
      return m;
    },
  };
}

/** Joins adjacent literal tokens so the matcher's fast paths (exact, prefix) still apply. */
function mergeLiterals(tokens: readonly GlobToken[]): GlobToken[] {
  const out: GlobToken[] = [];
  for (const t of tokens) {
    const prev = out[out.length - 1];
    if (typeof t !== 'string' && prev !== undefined && typeof prev !== 'string') out[out.length - 1] = { lit: prev.lit + t.lit };
    else if (typeof t !== 'string' && t.lit === '') continue;
    else out.push(t);
  }
  return out;
}
