import type { ArnScope } from '../model/arn.js';
import { parameterErrors } from './errors.js';

/** Levels a parameter's path may have (`/a/b/c` has three). */
export const MAX_HIERARCHY_LEVELS = 15;
/** The longest name: AWS counts 1011 characters with the ARN around it; berth counts the name itself. */
const MAX_NAME = 1011;
const SEGMENT = /^[A-Za-z0-9_.-]+$/;

/**
 * Refuse a name Parameter Store refuses: letters, digits and `_.-` in `/`-separated segments; a name with a
 * `/` starts with one; no first segment starting `aws` or `ssm` (any case: those hierarchies are AWS's);
 * at most 15 levels.
 */
export function checkParameterName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME) throw parameterErrors.badName();
  if (name.includes('/') && !name.startsWith('/')) throw parameterErrors.notQualified();
  const segments = name.startsWith('/') ? name.slice(1).split('/') : [name];
  if (segments.some((s) => !SEGMENT.test(s))) throw parameterErrors.badName();
  if (/^(aws|ssm)/i.test(segments[0]!)) throw parameterErrors.badName();
  if (segments.length > MAX_HIERARCHY_LEVELS) throw parameterErrors.tooDeep();
}

/** `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`. */
export function parameterArn(scope: ArnScope, name: string): string {
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

const ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]*:\d*:parameter(\/.+)$/;

/**
 * The names a parameter reference may stand for: itself, or for an ARN both the hierarchical name (`/a/b`)
 * and, for a one-level ARN, the plain name (`a`): AWS gives `/a` and `a` the same ARN.
 */
export function parameterNameCandidates(nameOrArn: string): string[] {
  const m = ARN.exec(nameOrArn);
  if (!m) return [nameOrArn];
  const path = m[1]!;
  return path.indexOf('/', 1) === -1 ? [path.slice(1), path] : [path];
}

/** `name`, `name:<version>` or `name:<label>` (GetParameter, GetParameters and ECS `valueFrom`). */
export interface ParameterSelector {
  readonly name: string;
  readonly version?: number;
  readonly label?: string;
  /** `:<version>` or `:<label>` as given, echoed in the answer's Selector. */
  readonly selector?: string;
}

/** Split a selector off a name or ARN (an ARN's own colons are not selectors). */
export function parseSelector(reference: string): ParameterSelector {
  const arnPrefix = /^arn:[^:]*:[^:]*:[^:]*:[^:]*:/.exec(reference)?.[0] ?? '';
  const rest = reference.slice(arnPrefix.length);
  const colon = rest.lastIndexOf(':');
  if (colon === -1) return { name: reference };
  const name = arnPrefix + rest.slice(0, colon);
  const selector = rest.slice(colon);
  const tail = selector.slice(1);
  return /^\d+$/.test(tail) ? { name, version: Number(tail), selector } : { name, label: tail, selector };
}

/** Labels: letters, digits, `._-`, not beginning with a digit, `aws` or `ssm`; at most 100 characters. */
export function isValidLabel(label: string): boolean {
  return label.length >= 1 && label.length <= 100 && /^[A-Za-z0-9_.-]+$/.test(label) && !/^[0-9]/.test(label) && !/^(aws|ssm)/i.test(label);
}
