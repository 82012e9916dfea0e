/**
 * The errors placement throws for input a user wrote: both mean the request is invalid (the API answers
 * InvalidParameterException, or ClientException when registering a task definition). Placement that merely
 * fails — no instance fits — is not an error; `place` reports it as failures.
 */
export class PlacementRequestError extends Error {
  override readonly name: string = 'PlacementRequestError';
}

/** Where and why a Cluster Query Language expression could not be read. */
export interface CqlErrorDetails {
  /** The expression as given. */
  readonly expression: string;
  /** 0-based character offset of the problem. */
  readonly offset: number;
  /** What the parser would have accepted there (empty for errors found after parsing). */
  readonly expected: readonly string[];
}

/**
 * A memberOf expression that is not valid Cluster Query Language: a syntax error, or an argument that does not
 * suit its subject (a date that is not a date, an operator the subject does not take, a bad regular
 * expression). The message names the offset and shows the text around it with a caret under the problem.
 */
export class CqlSyntaxError extends PlacementRequestError implements CqlErrorDetails {
  override readonly name = 'CqlSyntaxError';
  readonly expression: string;
  readonly offset: number;
  readonly expected: readonly string[];
  /** 1-based line and column of `offset`, for expressions written over several lines. */
  readonly line: number;
  readonly column: number;

  constructor(problem: string, details: CqlErrorDetails, options?: ErrorOptions) {
    const { line, column } = lineAndColumn(details.expression, details.offset);
    super(`Invalid expression at offset ${details.offset}: ${problem}\n${excerpt(details.expression, details.offset)}`, options);
    this.expression = details.expression;
    this.offset = details.offset;
    this.expected = details.expected;
    this.line = line;
    this.column = column;
  }
}

const EXCERPT_RADIUS = 30;

/** The line of `text` around `offset`, cut to a readable width, with a caret line under the offset. */
function excerpt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEndAt = text.indexOf('\n', offset);
  const lineEnd = lineEndAt < 0 ? text.length : lineEndAt;
  const from = Math.max(lineStart, offset - EXCERPT_RADIUS);
  const to = Math.min(lineEnd, offset + EXCERPT_RADIUS);
  const prefix = from > lineStart ? '…' : '';
  const suffix = to < lineEnd ? '…' : '';
  const shown = text.slice(from, to).replace(/\t/g, ' ');
  return `  ${prefix}${shown}${suffix}\n  ${' '.repeat(prefix.length + offset - from)}^`;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
