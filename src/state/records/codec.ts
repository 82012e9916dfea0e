/**
 * Typed reading of stored records. Every record kind has one parse function that checks the fields berth
 * relies on before handing out a typed value, so a record written by another version, damaged by hand or
 * stored under the wrong key fails loudly at the read — naming the key — instead of deep inside a handler.
 */

/** Parses one stored value; `key` is only for the error message. */
export type Parse<T> = (value: string, key: string) => T;

/** A stored value is not the record its key says it is. */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
  constructor(
    readonly kind: string,
    readonly key: string,
    detail: string,
  ) {
    super(`stored ${kind} record at '${key}' is unreadable: ${detail}`);
  }
}

type Field = 'string' | 'number' | 'boolean' | 'object' | 'array';

/** The required fields of a record kind and their JSON types; nested paths with dots (`task.taskArn`). */
export type Shape = Readonly<Record<string, Field>>;

/** A parse function for `kind` that checks each required field of `shape`. */
export function recordParser<T>(kind: string, shape: Shape): Parse<T> {
  const checks = Object.entries(shape).map(([path, type]) => ({ path, parts: path.split('.'), type }));
  return (value, key) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new CorruptRecordError(kind, key, `not JSON (${(error as Error).message})`);
    }
    if (!isObject(parsed)) throw new CorruptRecordError(kind, key, 'not a JSON object');
    for (const check of checks) {
      let at: unknown = parsed;
      for (const part of check.parts) at = isObject(at) ? at[part] : undefined;
      if (!hasType(at, check.type)) throw new CorruptRecordError(kind, key, `'${check.path}' is not ${article(check.type)}`);
    }
    return parsed as T;
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, type: Field): boolean {
  if (type === 'array') return Array.isArray(v);
  if (type === 'object') return isObject(v);
  return typeof v === type;
}

const article = (type: Field) => (type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`);
