import { CqlSyntaxError } from '../errors.js';
import { compareVersions, parseAgentVersion, parseVersionArgument } from './agent-version.js';
import type { CqlComparison, CqlExpression, CqlOperator, CqlSubjectKind, CqlValue } from './ast.js';
import { parseTimeSpan, type TimeSpan } from './dates.js';
import type { CqlInstanceView } from './instance-view.js';
import { parseCqlSyntax } from './parse.js';

/** A memberOf expression made ready to test instances. */
export interface CompiledCql {
  readonly expression: string;
  readonly ast: CqlExpression;
  /**
   * True when the answer depends on the instance's tasks (runningTasksCount, task:group), so it can change as
   * tasks are placed; otherwise it is fixed for an instance and placement evaluates it once.
   */
  readonly dependsOnTasks: boolean;
  matches(instance: CqlInstanceView): boolean;
}

type Test = (instance: CqlInstanceView) => boolean;

/** The operators ECS documents for each subject; attributes take them all. */
const operatorsBySubject: Record<CqlSubjectKind, readonly CqlOperator[]> = {
  agentConnected: ['==', '!=', 'in', '!in', '=~', '!~'],
  agentVersion: ['==', '!=', '>', '>=', '<', '<='],
  attribute: ['==', '!=', '>', '>=', '<', '<=', 'exists', '!exists', 'in', '!in', '=~', '!~'],
  ec2InstanceId: ['==', '!=', 'in', '!in', '=~', '!~'],
  registeredAt: ['==', '!=', '>', '>=', '<', '<='],
  runningTasksCount: ['==', '!=', '>', '>=', '<', '<='],
  'task:group': ['==', '!=', 'in', '!in', '=~', '!~'],
};

/** Each negative operator is the exact complement of a positive one: `attribute:x != a` holds when x is absent. */
const complementOf: Partial<Record<CqlOperator, CqlOperator>> = { '!=': '==', '!exists': 'exists', '!in': 'in', '!~': '=~' };

/**
 * Parse, check and compile a Cluster Query Language expression.
 * @throws CqlSyntaxError when the text is not a valid expression, with the offset of the problem.
 */
export function compileCql(expression: string): CompiledCql {
  const ast = parseCqlSyntax(expression);
  let dependsOnTasks = false;
  const compile = (node: CqlExpression): Test => {
    switch (node.kind) {
      case 'and': {
        const [l, r] = [compile(node.left), compile(node.right)];
        return (i) => l(i) && r(i);
      }
      case 'or': {
        const [l, r] = [compile(node.left), compile(node.right)];
        return (i) => l(i) || r(i);
      }
      case 'not': {
        const t = compile(node.operand);
        return (i) => !t(i);
      }
      case 'comparison':
        if (node.subject.kind === 'runningTasksCount' || node.subject.kind === 'task:group') dependsOnTasks = true;
        return compileComparison(expression, node);
    }
  };
  const test = compile(ast);
  return { expression, ast, dependsOnTasks, matches: test };
}

/**
 * Check an expression without keeping the compiled form (for validating task definitions and requests).
 * @throws CqlSyntaxError as {@link compileCql} does.
 */
export function parseCql(expression: string): CqlExpression {
  return compileCql(expression).ast;
}

function compileComparison(expression: string, c: CqlComparison): Test {
  const fail = (problem: string, at: number): never => {
    throw new CqlSyntaxError(problem, { expression, offset: at, expected: [] });
  };
  const subjectName = c.subject.kind === 'attribute' ? `attribute:${c.subject.name}` : c.subject.kind;
  if (!operatorsBySubject[c.subject.kind].includes(c.operator)) {
    const allowed = operatorsBySubject[c.subject.kind].join(' ');
    fail(`${subjectName} does not take the operator ${c.operator} (it takes ${allowed})`, c.operatorOffset);
  }
  const positive = complementOf[c.operator];
  const test = compilePositive(c, positive ?? c.operator, fail);
  return positive ? (i) => !test(i) : test;
}

type Fail = (problem: string, at: number) => never;

function compilePositive(c: CqlComparison, op: CqlOperator, fail: Fail): Test {
  const subject = c.subject;
  switch (subject.kind) {
    case 'agentVersion': {
      const want = typed(c.values, fail, parseVersionArgument, 'a version such as 1.14.5');
      // A cluster runs a handful of agent versions: parse each once.
      const read = memoized((text: string | undefined) => parseAgentVersion(text));
      return ordered(op, (i) => read(i.agentVersion), (have) => compareVersions(have, want));
    }
    case 'registeredAt': {
      const span = typed(c.values, fail, parseTimeSpan, 'a date such as 2018-02-13 or a time such as 2018-02-13T22:28:28Z');
      return ordered(op, (i) => i.registeredAt, (at) => compareToSpan(at, span));
    }
    case 'runningTasksCount': {
      const n = typed(c.values, fail, (t) => (/^\d+$/.test(t) ? Number(t) : undefined), 'a whole number');
      return ordered(op, (i) => i.runningTasksCount, (count) => count - n);
    }
    case 'agentConnected': {
      if (op !== '=~') for (const v of c.values) if (v.text !== 'true' && v.text !== 'false') fail('expected true or false', v.offset);
      return textTest(op, c.values, fail, (i, match) => match(String(i.agentConnected)));
    }
    case 'ec2InstanceId':
      return textTest(op, c.values, fail, (i, match) => i.ec2InstanceId !== undefined && match(i.ec2InstanceId));
    case 'task:group': {
      if (op === '==') {
        const group = c.values[0]!.text;
        return (i) => i.hasTaskGroup(group);
      }
      return textTest(op, c.values, fail, (i, match) => {
        for (const g of i.taskGroups()) if (match(g)) return true;
        return false;
      });
    }
    case 'attribute': {
      const name = subject.name;
      if (op === 'exists') return (i) => i.attributes.has(name);
      if (op === '>' || op === '>=' || op === '<' || op === '<=') {
        // The argument decides: a number compares with values that are numbers (others never hold), any other
        // text compares by code unit.
        const want = c.values[0]!.text;
        const wanted = numberOf(want);
        if (wanted !== undefined) return ordered(op, (i) => numberOf(i.attributes.get(name)), (have) => have - wanted);
        return ordered(op, (i) => i.attributes.get(name), (have) => (have < want ? -1 : have > want ? 1 : 0));
      }
      return textTest(op, c.values, fail, (i, match) => {
        const v = i.attributes.get(name);
        return v !== undefined && match(v);
      });
    }
  }
}

/** The one argument of an ordering comparison, read by `parse`; a located error when it does not read. */
function typed<T>(values: readonly CqlValue[], fail: Fail, parse: (text: string) => T | undefined, what: string): T {
  const v = values[0]!;
  const parsed = parse(v.text);
  return parsed === undefined ? fail(`expected ${what}, found "${v.text}"`, v.offset) : parsed;
}

/** ==, >, >=, <, <= through a three-way comparison; false when the instance has no value to compare. */
function ordered<T>(op: CqlOperator, read: (i: CqlInstanceView) => T | undefined, compare: (have: T) => number): Test {
  const holds = relation(op);
  return (i) => {
    const have = read(i);
    return have !== undefined && holds(compare(have));
  };
}

function relation(op: CqlOperator): (d: number) => boolean {
  switch (op) {
    case '==':
      return (d) => d === 0;
    case '>':
      return (d) => d > 0;
    case '>=':
      return (d) => d >= 0;
    case '<':
      return (d) => d < 0;
    case '<=':
      return (d) => d <= 0;
    default:
      throw new Error(`${op} is not an ordering operator`);
  }
}

/** Where an instant falls against a span: 0 inside, negative before, positive after. */
function compareToSpan(at: number, span: TimeSpan): number {
  if (at < span.start) return -1;
  return at >= span.end ? 1 : 0;
}

const MEMO_LIMIT = 10_000;

/**
 * `f` remembering its answers: instances share few distinct values (agent versions, instance types), so a
 * placement call parses or matches each once. Forgets everything past MEMO_LIMIT entries to stay small.
 */
function memoized<K, V>(f: (key: K) => V): (key: K) => V {
  const memo = new Map<K, V>();
  return (key) => {
    if (memo.has(key)) return memo.get(key) as V;
    if (memo.size >= MEMO_LIMIT) memo.clear();
    const value = f(key);
    memo.set(key, value);
    return value;
  };
}

function numberOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** ==, in and =~ on text: `holds(instance, match)` applies `match` to the instance's value(s). */
function textTest(
  op: CqlOperator,
  values: readonly CqlValue[],
  fail: Fail,
  holds: (i: CqlInstanceView, match: (text: string) => boolean) => boolean,
): Test {
  if (op === '=~') {
    const v = values[0]!;
    let re: RegExp;
    try {
      // Matches the whole value, as Java's Pattern.matches (the ECS documentation points there) does.
      re = new RegExp(`^(?:${v.text})$`);
    } catch (e) {
      // V8 words it "Invalid regular expression: /…/: Unterminated group"; the last part is the news.
      const why = (e as Error).message.split(': ').pop();
      return fail(`"${v.text}" is not a valid regular expression (${why})`, v.offset);
    }
    const match = memoized((t: string) => re.test(t));
    return (i) => holds(i, match);
  }
  if (op === '==') {
    const want = values[0]!.text;
    const match = (t: string) => t === want;
    return (i) => holds(i, match);
  }
  if (op === 'in') {
    const set = new Set(values.map((v) => v.text));
    const match = (t: string) => set.has(t);
    return (i) => holds(i, match);
  }
  throw new Error(`${op} does not apply to text`);
}

