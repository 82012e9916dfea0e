import { CqlSyntaxError } from '../errors.js';
import type { CqlExpression } from './ast.js';
import * as generated from './parser.generated.js';

/** ECS's limit on a memberOf expression. */
export const MAX_CQL_EXPRESSION_LENGTH = 2000;

/** The parts of peggy's syntax error this module reads. */
interface PeggySyntaxError {
  readonly message: string;
  readonly location: { readonly start: { readonly offset: number } };
  readonly expected: readonly ({ type: 'literal'; text: string } | { type: 'other' | 'end' | 'any' | 'class'; description?: string; text?: string })[] | null;
  readonly found: string | null;
}

const parse = generated.parse as (input: string) => CqlExpression;
const PeggyError = generated.SyntaxError as unknown as abstract new (...args: never[]) => PeggySyntaxError;

/**
 * The syntax tree of an expression, checking its shape only (compile.ts checks arguments against subjects).
 * @throws CqlSyntaxError with the offset where reading stopped and what would have been accepted there.
 */
export function parseCqlSyntax(expression: string): CqlExpression {
  if (expression.length > MAX_CQL_EXPRESSION_LENGTH) {
    throw new CqlSyntaxError(`an expression can be at most ${MAX_CQL_EXPRESSION_LENGTH} characters (this one has ${expression.length})`, {
      expression,
      offset: MAX_CQL_EXPRESSION_LENGTH,
      expected: [],
    });
  }
  try {
    return parse(expression);
  } catch (e) {
    if (!(e instanceof PeggyError)) throw e;
    const offset = e.location.start.offset;
    const expected = describeExpected(e);
    const found = e.found === null ? 'the end of the expression' : `"${e.found}"`;
    // error() calls in the grammar carry their own message and no expectations.
    const problem = e.expected === null ? e.message : `expected ${joinAlternatives(expected)} but found ${found}`;
    throw new CqlSyntaxError(problem, { expression, offset, expected }, { cause: e });
  }
}

function describeExpected(e: PeggySyntaxError): string[] {
  const described = (e.expected ?? []).map((x) => {
    if (x.type === 'literal') return `"${x.text}"`;
    if (x.type === 'end') return 'the end of the expression';
    return x.description ?? x.text ?? x.type;
  });
  return [...new Set(described)].sort();
}

function joinAlternatives(xs: readonly string[]): string {
  if (xs.length <= 1) return xs[0] ?? 'something else';
  return `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}
