/**
 * CloudWatch metric math, the part scaling policies and alarms use: numbers, query ids, `+ - * / ^`, comparisons
 * (`== != < > <= >=`), `AND`/`&&`, `OR`/`||`, `NOT`/`!`, parentheses, function calls (`SUM(METRICS())`,
 * `FILL(m1, REPEAT)`, `IF(m1 > 10, m1, 0)`) and string arguments (`METRICS("cpu")`). A hand-written recursive
 * descent parser: the grammar is a dozen lines, and the expression-parser libraries on npm either evaluate
 * JavaScript-like syntax (not CloudWatch's keywords and string rules) or bring far more than this needs.
 *
 * Precedence, loosest first: OR, AND, comparison, + -, * /, ^ (right-associative), unary - and NOT.
 */
export type Expr =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ref'; readonly id: string }
  | { readonly kind: 'keyword'; readonly name: 'REPEAT' | 'LINEAR' }
  | { readonly kind: 'unary'; readonly op: '-' | 'NOT'; readonly arg: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[] };

export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '==' | '!=' | '<' | '>' | '<=' | '>=' | 'AND' | 'OR';

/** A syntax error, with where it is. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
}

type Token = { kind: 'num'; value: number; at: number } | { kind: 'str'; value: string; at: number } | { kind: 'name'; value: string; at: number } | { kind: 'op'; value: string; at: number };

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '+', '-', '*', '/', '^', '<', '>', '(', ')', ',', '!'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      tokens.push({ kind: 'num', value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name) {
      tokens.push({ kind: 'name', value: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end === -1) throw new ExpressionError(`unterminated string at ${i}`);
      tokens.push({ kind: 'str', value: text.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character '${c}' at ${i}`);
    tokens.push({ kind: 'op', value: op, at: i });
    i += op.length;
  }
  return tokens;
}

/** The expression's tree; throws ExpressionError. */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (...ops: string[]) => {
    const t = peek();
    return t !== undefined && ((t.kind === 'op' && ops.includes(t.value)) || (t.kind === 'name' && ops.includes(t.value)));
  };
  const expect = (op: string) => {
    const t = tokens[pos];
    if (!t || t.kind !== 'op' || t.value !== op) throw new ExpressionError(`expected '${op}' ${t ? `at ${t.at}` : 'at the end'}`);
    pos++;
  };
  const binary = (next: () => Expr, ops: Record<string, BinaryOp>): (() => Expr) => () => {
    let left = next();
    while (isOp(...Object.keys(ops))) {
      const op = ops[tokens[pos++]!.value]!;
      left = { kind: 'binary', op, left, right: next() };
    }
    return left;
  };
  const unary = (): Expr => {
    if (isOp('-')) {
      pos++;
      return { kind: 'unary', op: '-', arg: unary() };
    }
    if (isOp('!', 'NOT')) {
      pos++;
      return { kind: 'unary', op: 'NOT', arg: unary() };
    }
    return power();
  };
  const power = (): Expr => {
    const base = primary();
    if (isOp('^')) {
      pos++;
      return { kind: 'binary', op: '^', left: base, right: unary() };
    }
    return base;
  };
  const primary = (): Expr => {
    const t = tokens[pos++];
    if (!t) throw new ExpressionError('unexpected end of expression');
    if (t.kind === 'num') return { kind: 'number', value: t.value };
    if (t.kind === 'str') return { kind: 'string', value: t.value };
    if (t.kind === 'op' && t.value === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (t.kind === 'name') {
      if (isOp('(')) {
        pos++;
        const args: Expr[] = [];
        if (!isOp(')')) {
          args.push(or());
          while (isOp(',')) {
            pos++;
            args.push(or());
          }
        }
        expect(')');
        return { kind: 'call', name: t.value.toUpperCase(), args };
      }
      if (t.value === 'REPEAT' || t.value === 'LINEAR') return { kind: 'keyword', name: t.value };
      return { kind: 'ref', id: t.value };
    }
    throw new ExpressionError(`unexpected '${t.value}' at ${t.at}`);
  };
  const multiplicative = binary(unary, { '*': '*', '/': '/' });
  const additive = binary(multiplicative, { '+': '+', '-': '-' });
  const comparison = binary(additive, { '==': '==', '!=': '!=', '<': '<', '>': '>', '<=': '<=', '>=': '>=' });
  const and = binary(comparison, { AND: 'AND', '&&': 'AND' });
  const or = binary(and, { OR: 'OR', '||': 'OR' });

  const tree = or();
  if (pos < tokens.length) throw new ExpressionError(`unexpected '${tokens[pos]!.value}' at ${tokens[pos]!.at}`);
  return tree;
}

/** The query ids an expression reads (METRICS() reads every metric: reported as '*'). */
export function referencesOf(expr: Expr, into: Set<string> = new Set()): Set<string> {
  switch (expr.kind) {
    case 'ref':
      into.add(expr.id);
      break;
    case 'unary':
      referencesOf(expr.arg, into);
      break;
    case 'binary':
      referencesOf(expr.left, into);
      referencesOf(expr.right, into);
      break;
    case 'call':
      if (expr.name === 'METRICS') into.add('*');
      for (const arg of expr.args) referencesOf(arg, into);
      break;
    default:
  }
  return into;
}
