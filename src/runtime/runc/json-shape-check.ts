/**
 * A check of parsed JSON against a small JSON-Schema subset (type, required, properties, items, pattern,
 * minimum, maximum), answering the first problem found as `{ path, message }` in Ajv's words
 * (`/syscalls/0/action must match pattern "^SCMP_ACT_"`).
 *
 * Why not Ajv, which the server uses for the API's shapes: the agent needs it for one document read
 * once at start-up (the seccomp profile), and loading Ajv and compiling a validator kept ~60 modules and
 * their generated code resident in every agent (docs/agent.md, Footprint).
 */

type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

export interface ShapeSchema {
  readonly type?: JsonType | readonly JsonType[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, ShapeSchema>>;
  readonly items?: ShapeSchema;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

/** Where in the document (a JSON pointer, '' for the root) and what is wrong. */
export interface ShapeProblem {
  readonly path: string;
  readonly message: string;
}

const isType: Readonly<Record<JsonType, (v: unknown) => boolean>> = {
  string: (v) => typeof v === 'string',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: (v) => Array.isArray(v),
  null: (v) => v === null,
};

/** The first way `value` breaks `schema`, or undefined when it fits. */
export function checkShape(value: unknown, schema: ShapeSchema, path = ''): ShapeProblem | undefined {
  if (schema.type !== undefined) {
    const types: readonly JsonType[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => isType[t](value))) return { path, message: `must be ${types.join(',')}` };
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return { path, message: `must be >= ${schema.minimum}` };
    if (schema.maximum !== undefined && value > schema.maximum) return { path, message: `must be <= ${schema.maximum}` };
  }
  if (typeof value === 'string' && schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    return { path, message: `must match pattern "${schema.pattern}"` };
  }
  if (isType.object(value)) {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in record)) return { path, message: `must have required property '${name}'` };
    for (const [name, sub] of Object.entries(schema.properties ?? {})) {
      if (record[name] === undefined) continue;
      const problem = checkShape(record[name], sub, `${path}/${escapePointer(name)}`);
      if (problem) return problem;
    }
  }
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length; i++) {
      const problem = checkShape(value[i], schema.items, `${path}/${i}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
