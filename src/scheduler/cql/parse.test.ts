import { describe, expect, it } from 'vitest';
import { CqlSyntaxError } from '../errors.js';
import type { CqlExpression } from './ast.js';
import { parseCql } from './compile.js';
import { MAX_CQL_EXPRESSION_LENGTH } from './parse.js';

/** A compact rendering of a syntax tree: comparisons as `subject op [values]`, compounds in parentheses. */
function show(e: CqlExpression): string {
  switch (e.kind) {
    case 'comparison': {
      const subject = e.subject.kind === 'attribute' ? `attribute:${e.subject.name}` : e.subject.kind;
      const values = e.values.map((v) => v.text);
      return [subject, e.operator, ...(e.operator === 'in' || e.operator === '!in' ? [`[${values.join(',')}]`] : values)].join(' ');
    }
    case 'not':
      return `not(${show(e.operand)})`;
    default:
      return `(${show(e.left)} ${e.kind} ${show(e.right)})`;
  }
}

function syntaxError(expression: string): CqlSyntaxError {
  try {
    parseCql(expression);
  } catch (e) {
    if (e instanceof CqlSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(expression)} to be refused`);
}

describe('Cluster Query Language syntax', () => {
  // The examples of the ECS developer guide (cluster query language and task placement constraint pages).
  it.each([
    ['attribute:ecs.instance-type == t2.small', 'attribute:ecs.instance-type == t2.small'],
    ['attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', 'attribute:ecs.availability-zone in [us-east-1a,us-east-1b]'],
    [
      'attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d',
      '(attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d)',
    ],
    ['task:group == service:production', 'task:group == service:production'],
    ['not(task:group == database)', 'not(task:group == database)'],
    ['runningTasksCount == 1', 'runningTasksCount == 1'],
    ['agentVersion < 1.14.5', 'agentVersion < 1.14.5'],
    ['registeredAt < 2018-02-13', 'registeredAt < 2018-02-13'],
    ["ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", 'ec2InstanceId in [i-abcd1234,i-wxyx7890]'],
    ['attribute:ecs.os-type == linux', 'attribute:ecs.os-type == linux'],
    ['attribute:stack exists', 'attribute:stack exists'],
    ['agentConnected == false', 'agentConnected == false'],
    ['registeredAt >= 2018-06-18T22:28:28+00:00', 'registeredAt >= 2018-06-18T22:28:28+00:00'],
  ])('reads %s', (text, shape) => {
    expect(show(parseCql(text))).toBe(shape);
  });

  it.each([
    ['equals', '=='],
    ['not_equals', '!='],
    ['greater_than', '>'],
    ['greater_than_equal', '>='],
    ['less_than', '<'],
    ['less_than_equal', '<='],
    ['matches', '=~'],
    ['not_matches', '!~'],
  ])('reads the word form %s as %s', (word, symbol) => {
    expect(show(parseCql(`attribute:size ${word} 5`))).toBe(`attribute:size ${symbol} 5`);
  });

  it.each([
    ['attribute:a exists', 'attribute:a exists'],
    ['attribute:a !exists', 'attribute:a !exists'],
    ['attribute:a not_exists', 'attribute:a !exists'],
    ['attribute:a in [x]', 'attribute:a in [x]'],
    ['attribute:a !in [x, y]', 'attribute:a !in [x,y]'],
    ['attribute:a not_in [x,y]', 'attribute:a !in [x,y]'],
  ])('reads the presence and list operators: %s', (text, shape) => {
    expect(show(parseCql(text))).toBe(shape);
  });

  it.each([
    // not binds tighter than and, and tighter than or.
    ['attribute:a == 1 or attribute:b == 2 and attribute:c == 3', '(attribute:a == 1 or (attribute:b == 2 and attribute:c == 3))'],
    ['attribute:a == 1 || attribute:b == 2 && attribute:c == 3', '(attribute:a == 1 or (attribute:b == 2 and attribute:c == 3))'],
    ['(attribute:a == 1 or attribute:b == 2) and attribute:c == 3', '((attribute:a == 1 or attribute:b == 2) and attribute:c == 3)'],
    ['not attribute:a == 1 and attribute:b == 2', '(not(attribute:a == 1) and attribute:b == 2)'],
    ['!(attribute:a == 1) && !attribute:b exists', '(not(attribute:a == 1) and not(attribute:b exists))'],
    ['attribute:a == 1 and attribute:b == 2 and attribute:c == 3', '((attribute:a == 1 and attribute:b == 2) and attribute:c == 3)'],
    ['attribute:a==1&&attribute:b!=2', '(attribute:a == 1 and attribute:b != 2)'],
    ['  ( ( attribute:a == 1 ) )  ', 'attribute:a == 1'],
    ['attribute:a == 1\n  and\tattribute:b == 2', '(attribute:a == 1 and attribute:b == 2)'],
  ])('groups %s', (text, shape) => {
    expect(show(parseCql(text))).toBe(shape);
  });

  it('keeps quoted values whole, with escaped quotes, and records where values start', () => {
    const e = parseCql(`attribute:note == 'it\\'s (here), [really]'`);
    expect(e).toMatchObject({ kind: 'comparison', values: [{ text: "it's (here), [really]", quoted: true, offset: 18 }] });
    expect(parseCql('attribute:note == "two words"')).toMatchObject({ values: [{ text: 'two words', quoted: true }] });
    // Backslashes other than before the quote stay, so regular expressions keep theirs.
    expect(parseCql(`attribute:x =~ '\\d+\\.\\d+'`)).toMatchObject({ values: [{ text: '\\d+\\.\\d+' }] });
  });

  it.each([
    // [expression, offset, words the message must contain]
    ['attribute:ecs.instance-type = t2.small', 28, ['expected an operator', 'found "="']],
    ['instanceType == t2.small', 0, ['expected', 'a subject', 'found "i"']],
    ['attribute:a == ', 15, ['expected a value', 'found the end of the expression']],
    ['attribute:a in x', 15, ['expected a list such as [a, b]']],
    ['attribute:a in [x, ]', 19, ['expected a value']],
    ['attribute:a == 1 and', 20, ['expected', 'a subject']],
    ['(attribute:a == 1', 17, ['")"']],
    ['attribute:a == 1 attribute:b == 2', 17, ['and', 'or', 'the end of the expression']],
    ["attribute:a == 'open", 15, ['never closed']],
    ['attribute: == x', 0, ['a subject']],
    ['', 0, ['a subject']],
  ])('refuses %j at offset %i', (text, offset, words) => {
    const e = syntaxError(text);
    expect(e.offset).toBe(offset);
    for (const w of words) expect(e.message).toContain(w);
    expect(e.message).toContain(`offset ${offset}`);
  });

  it('shows the text around the error with a caret under it', () => {
    const e = syntaxError('attribute:ecs.instance-type = t2.small');
    const [, excerpt, caret] = e.message.split('\n');
    expect(excerpt).toBe('  attribute:ecs.instance-type = t2.small');
    expect(caret!.indexOf('^')).toBe(2 + 28);
    expect(e).toMatchObject({ name: 'CqlSyntaxError', line: 1, column: 29, expression: 'attribute:ecs.instance-type = t2.small' });
    expect(e.expected.join(' ')).toContain('an operator');
  });

  it('cuts a long expression around the error and counts lines and columns', () => {
    const long = `${'attribute:a == 1 and '.repeat(20)}attribute:b ?? 2`;
    const e = syntaxError(long);
    const [, excerpt, caret] = e.message.split('\n');
    expect(excerpt!.length).toBeLessThan(70);
    expect(excerpt!.startsWith('  …')).toBe(true);
    expect(excerpt![caret!.indexOf('^')]).toBe('?');
    const multi = syntaxError('attribute:a == 1 and\nattribute:b ?? 2');
    expect(multi).toMatchObject({ line: 2, column: 13 });
  });

  it(`accepts ${MAX_CQL_EXPRESSION_LENGTH} characters and refuses more`, () => {
    const clause = 'attribute:a == 1 or ';
    const body = clause.repeat(Math.floor((MAX_CQL_EXPRESSION_LENGTH - 20) / clause.length));
    const fits = `${body}attribute:a == 1`.padEnd(MAX_CQL_EXPRESSION_LENGTH, ' ');
    expect(fits.length).toBe(MAX_CQL_EXPRESSION_LENGTH);
    expect(() => parseCql(fits)).not.toThrow();
    expect(syntaxError(`${fits} `).message).toContain('at most 2000 characters');
  });
});
