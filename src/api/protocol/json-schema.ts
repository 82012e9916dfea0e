import type { ServiceModel, Shape } from './service-model.js';

type JsonSchema = Record<string, unknown>;

/** AWS `Integer` is 32-bit; `Long` is anything JavaScript can hold exactly. */
const INT32 = { minimum: -2_147_483_648, maximum: 2_147_483_647 } as const;

/**
 * Translate every shape of a botocore model into JSON Schema `$defs`, one per shape, for the AWS JSON
 * protocol's wire form: structures are objects whose unknown members are dropped (`additionalProperties:
 * false`, with ajv removing them on input), timestamps are epoch seconds, blobs base64 strings.
 */
export function modelToJsonSchemaDefs(model: ServiceModel): Record<string, JsonSchema> {
  const defs: Record<string, JsonSchema> = {};
  for (const [name, shape] of Object.entries(model.shapes)) defs[name] = shapeToSchema(shape);
  return defs;
}

const ref = (shape: string) => ({ $ref: `#/$defs/${shape}` });

function shapeToSchema(shape: Shape): JsonSchema {
  switch (shape.type) {
    case 'structure': {
      const properties: Record<string, JsonSchema> = {};
      for (const [member, target] of Object.entries(shape.members)) properties[member] = ref(target.shape);
      return {
        type: 'object',
        properties,
        ...(shape.required?.length ? { required: [...shape.required] } : {}),
        additionalProperties: false,
      };
    }
    case 'list':
      return { type: 'array', items: ref(shape.member.shape), ...bounds(shape, 'minItems', 'maxItems') };
    case 'map':
      return {
        type: 'object',
        additionalProperties: ref(shape.value.shape),
        propertyNames: ref(shape.key.shape),
        ...bounds(shape, 'minProperties', 'maxProperties'),
      };
    case 'string':
      return {
        type: 'string',
        ...(shape.enum ? { enum: [...shape.enum] } : {}),
        ...bounds(shape, 'minLength', 'maxLength'),
        ...(shape.pattern ? { pattern: `^${unicodePattern(shape.pattern)}$` } : {}),
      };
    case 'integer':
      return { type: 'integer', minimum: shape.min ?? INT32.minimum, maximum: shape.max ?? INT32.maximum };
    case 'long':
      return { type: 'integer', ...bounds(shape, 'minimum', 'maximum') };
    case 'float':
    case 'double':
      return { type: 'number', ...bounds(shape, 'minimum', 'maximum') };
    case 'boolean':
      return { type: 'boolean' };
    case 'timestamp':
      return { type: 'number' };
    case 'blob':
      return { type: 'string' };
  }
}

function bounds(shape: { min?: number; max?: number }, lo: string, hi: string): JsonSchema {
  return {
    ...(shape.min !== undefined ? { [lo]: shape.min } : {}),
    ...(shape.max !== undefined ? { [hi]: shape.max } : {}),
  };
}

const JAVA_POSIX: Record<string, string> = {
  Print: '[\\x20-\\x7E]',
  Graph: '[\\x21-\\x7E]',
  Alnum: '[A-Za-z0-9]',
  Alpha: '[A-Za-z]',
  Digit: '[0-9]',
  Lower: '[a-z]',
  Upper: '[A-Z]',
  Space: '[ \\t\\n\\x0B\\f\\r]',
  ASCII: '[\\x00-\\x7F]',
};

/**
 * A model's pattern as a Unicode-mode JavaScript regular expression. Models are written for Java's regexes,
 * which accept escapes of any punctuation (`\!`, `\=` in Secrets Manager's); Unicode mode refuses escapes
 * other than of syntax characters, so those needless backslashes are dropped (the character means itself).
 */
export function unicodePattern(pattern: string): string {
  // Java's POSIX classes (Application Auto Scaling's `\p{Print}+`) are no Unicode property JavaScript knows: their ASCII sets.
  pattern = pattern.replace(/\\p\{(Print|Graph|Alnum|Alpha|Digit|Lower|Upper|Space|ASCII)\}/g, (_, name: string) => JAVA_POSIX[name]!);
  // Java lets a lookaround take a quantifier (EFS's `(\/(?!\.)+…)`), Unicode mode does not: once or more is the
  // lookaround itself; zero or more (or optional) asserts nothing.
  pattern = pattern.replace(/(\(\?<?[!=][^()]*\))([+*?])/g, (_, look: string, q: string) => (q === '+' ? look : ''));
  try {
    new RegExp(pattern, 'u');
    return pattern;
  } catch {
    // `\-` stays escaped inside a class (where it is a literal hyphen, not a range) and loses its backslash outside
    // one (EventBridge's `arn:aws([a-z]|\-)*`), where Unicode mode refuses it.
    let out = '';
    let inClass = false;
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i]!;
      if (ch === '\\' && i + 1 < pattern.length) {
        const next = pattern[i + 1]!;
        const needless = next === '-' ? !inClass : !/[A-Za-z0-9^$\\.*+?()[\]{}|/]/.test(next);
        out += needless ? next : ch + next;
        i++;
        continue;
      }
      if (ch === '[') inClass = true;
      else if (ch === ']') inClass = false;
      out += ch;
    }
    return out;
  }
}
