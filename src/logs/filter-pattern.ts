import { invalidParameter } from '../model/errors.js';

/**
 * The term form of CloudWatch Logs filter patterns, matched as case-sensitive substrings:
 *
 *   ERROR Exception        both terms must appear
 *   "Connection refused"   a quoted phrase (spaces and punctuation kept; \" for a quote)
 *   ?ERROR ?WARN           at least one of the ?-terms must appear
 *   ERROR -timeout         ERROR must appear and timeout must not
 *
 * An empty pattern matches everything. JSON (`{ $.x = … }`), space-delimited (`[a, b]`) and regular
 * expression (`%…%`) patterns are refused with InvalidParameterException rather than misread as terms.
 */
export interface FilterPattern {
  readonly required: readonly string[];
  readonly optional: readonly string[];
  readonly excluded: readonly string[];
}

export function parseFilterPattern(text: string): FilterPattern {
  const required: string[] = [];
  const optional: string[] = [];
  const excluded: string[] = [];
  const trimmed = text.trim();
  if (/^[{[%]/.test(trimmed)) {
    throw invalidParameter('Invalid filter pattern: berth supports term patterns only (JSON, space-delimited and regular-expression patterns are not implemented).');
  }
  let i = 0;
  while (i < trimmed.length) {
    const c = trimmed[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let into = required;
    if ((c === '?' || c === '-') && i + 1 < trimmed.length && !/\s/.test(trimmed[i + 1]!)) {
      into = c === '?' ? optional : excluded;
      i++;
    }
    let term = '';
    if (trimmed[i] === '"') {
      i++;
      let closed = false;
      while (i < trimmed.length) {
        const ch = trimmed[i++]!;
        if (ch === '\\' && i < trimmed.length) term += trimmed[i++]!;
        else if (ch === '"') {
          closed = true;
          break;
        } else term += ch;
      }
      if (!closed) throw invalidParameter('Invalid filter pattern: a quoted term is not closed.');
    } else {
      while (i < trimmed.length && !/\s/.test(trimmed[i]!)) term += trimmed[i++]!;
    }
    if (term !== '') into.push(term);
  }
  return { required, optional, excluded };
}

/** True when `message` satisfies the pattern. */
export function matchesPattern(pattern: FilterPattern, message: string): boolean {
  return (
    pattern.required.every((t) => message.includes(t)) &&
    (pattern.optional.length === 0 || pattern.optional.some((t) => message.includes(t))) &&
    !pattern.excluded.some((t) => message.includes(t))
  );
}
