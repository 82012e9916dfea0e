/** The parsed form of a Cluster Query Language expression; every node keeps the offset where it starts. */

/** Subjects an expression can test, as ECS names them. */
export const cqlSubjectKinds = [
  'agentConnected',
  'agentVersion',
  'attribute',
  'ec2InstanceId',
  'registeredAt',
  'runningTasksCount',
  'task:group',
] as const;
export type CqlSubjectKind = (typeof cqlSubjectKinds)[number];

export type CqlSubject =
  | { readonly kind: 'attribute'; readonly name: string }
  | { readonly kind: Exclude<CqlSubjectKind, 'attribute'> };

/** Operators in their symbolic form; the parser maps the word forms (not_equals, matches…) onto these. */
export const cqlOperators = ['==', '!=', '>', '>=', '<', '<=', 'exists', '!exists', 'in', '!in', '=~', '!~'] as const;
export type CqlOperator = (typeof cqlOperators)[number];

/** One argument as written: quoted ('i-abcd1234') or bare (t2.small). */
export interface CqlValue {
  readonly text: string;
  readonly quoted: boolean;
  readonly offset: number;
}

/** `subject operator [argument]`: no values for exists/!exists, a list for in/!in, one value otherwise. */
export interface CqlComparison {
  readonly kind: 'comparison';
  readonly subject: CqlSubject;
  readonly operator: CqlOperator;
  readonly operatorOffset: number;
  readonly values: readonly CqlValue[];
  readonly offset: number;
}

export type CqlExpression =
  | CqlComparison
  | { readonly kind: 'and' | 'or'; readonly left: CqlExpression; readonly right: CqlExpression; readonly offset: number }
  | { readonly kind: 'not'; readonly operand: CqlExpression; readonly offset: number };
