import type { ServiceModel, Shape } from './service-model.js';

/** Writes one value of a shape as AWS JSON 1.1 text. */
export type Serialize = (value: unknown) => string;

/**
 * Response bodies written by code compiled from a service model's output shapes: one function per shape,
 * reached from the operation's output, that emits exactly the members the model declares, in model order,
 * and leaves out absent (`undefined`) and `null` members, as the AWS JSON protocol treats null as absent.
 * A member berth invents never reaches a client; tests still check responses against the model
 * (`checkResponses`), so such a member fails a test rather than vanishing unnoticed.
 *
 * Why compile: the generated code walks a known shape with no key enumeration or type dispatch, and the
 * same pass that writes the body drops unknown members, where JSON.stringify would need a copy first.
 * The code is generated from the model files shipped with berth (member names embedded as JSON string
 * literals), never from request data.
 *
 * A frozen structure cannot change, so its text is written once and kept (weakly, by the object): records
 * shared from a parsed-record cache (a task definition on every DescribeTaskDefinition) cost one lookup.
 */
export class ShapeSerializer {
  private readonly compiled = new Map<string, Serialize>();

  constructor(private readonly model: ServiceModel) {}

  /** The JSON text of `value` as the named shape. */
  serialize(shapeName: string, value: unknown): string {
    return this.compiledFor(shapeName)(value);
  }

  /**
   * The same text as {@link serialize}, or as pieces to be written one after the other: each long list of numbers (a
   * GetMetricData result's 1,440 timestamps and values) a piece of its own. Why: the one string of a 2 MB answer is a
   * tree of concatenations that writing it flattens into a fresh 2 MB copy (and the socket's write encodes that
   * into fresh memory again), both faulted in page by page; pieces are written into reused memory
   * (response-body.ts), and a list that is the very array written just before (GetMetricData's results share
   * their timestamps) is the same piece, stringified once.
   */
  serializePieces(shapeName: string, value: unknown): string | string[] {
    const serialize = this.compiledFor(shapeName);
    const pieces: string[] = [];
    let text: string;
    split.pieces = pieces;
    try {
      text = serialize(value);
    } finally {
      split.pieces = undefined;
      split.lastList = undefined;
      split.lastText = '';
    }
    if (pieces.length === 0) return text;
    // The text holds a MARK where each piece goes, in order (nothing else writes that character raw: JSON.stringify
    // escapes it in strings). Searching flattens what is left of the text: the answer less its long lists.
    const out: string[] = [];
    let at = 0;
    for (const piece of pieces) {
      const mark = text.indexOf(MARK, at);
      if (mark > at) out.push(text.slice(at, mark));
      out.push(piece);
      at = mark + 1;
    }
    if (at < text.length) out.push(text.slice(at));
    return out;
  }

  private compiledFor(shapeName: string): Serialize {
    let serialize = this.compiled.get(shapeName);
    if (!serialize) {
      serialize = compile(this.model, shapeName);
      this.compiled.set(shapeName, serialize);
    }
    return serialize;
  }
}

/** Stands in the text for a piece split out by {@link ShapeSerializer.serializePieces} (never in JSON text raw). */
const MARK = '\u0000';
/** Lists of numbers from this length are split out as pieces (shorter ones are cheaper concatenated). */
const SPLIT_LENGTH = 256;

/**
 * The state of the serializePieces call under way (serialization is synchronous: one at a time). `pieces`: where
 * long lists go, or undefined when not splitting; `lastList` / `lastText`: the list written last and its text.
 */
const split: { pieces: string[] | undefined; lastList: unknown; lastText: string } = { pieces: undefined, lastList: undefined, lastText: '' };

/** A list of numbers (or timestamps) as JSON: JSON.stringify's text, or a MARK for it when splitting. */
function numberList(v: unknown): string {
  if (!Array.isArray(v)) return asJson(v);
  if (split.pieces === undefined || v.length < SPLIT_LENGTH) return JSON.stringify(v);
  if (v !== split.lastList) {
    split.lastList = v;
    split.lastText = JSON.stringify(v);
  }
  split.pieces.push(split.lastText);
  return MARK;
}

/**
 * A frozen structure's text for the cache: written whole, never split (its text is reused by later answers, whose
 * pieces are their own).
 */
function whole(write: Serialize, v: unknown): string {
  const pieces = split.pieces;
  split.pieces = undefined;
  try {
    return write(v);
  } finally {
    split.pieces = pieces;
  }
}

/** Fallback for a value whose JavaScript type is not the shape's: what JSON.stringify made of it before. */
const asJson = (value: unknown): string => JSON.stringify(value) ?? 'null';

/** One function per shape reachable from `root`, in one generated scope so that recursive shapes work. */
function compile(model: ServiceModel, root: string): Serialize {
  const names = new Map<string, string>();
  const bodies: string[] = [];
  const fnFor = (shapeName: string): string => {
    let fn = names.get(shapeName);
    if (fn === undefined) {
      const shape = model.shapes[shapeName];
      if (!shape) throw new Error(`unknown shape ${shapeName}`);
      fn = `s${names.size}`;
      names.set(shapeName, fn);
      if (shape.type === 'structure' && !shape.document) {
        bodies.push(
          `const ${fn}m = new WeakMap();`,
          `function ${fn}(v) {\n` +
            `if (typeof v === 'object' && v !== null && Object.isFrozen(v)) { let t = ${fn}m.get(v); if (t === undefined) ${fn}m.set(v, (t = whole(${fn}w, v))); return t; }\n` +
            `return ${fn}w(v);\n}`,
          `function ${fn}w(v) {\n${bodyOf(shape, fnFor, typeOf)}\n}`,
        );
      } else {
        bodies.push(`function ${fn}(v) {\n${bodyOf(shape, fnFor, typeOf)}\n}`);
      }
    }
    return fn;
  };
  const typeOf = (shapeName: string) => model.shapes[shapeName]?.type;
  const rootFn = fnFor(root);
  const factory = new Function('asJson', 'toBase64', 'numberList', 'whole', `'use strict';\n${bodies.join('\n')}\nreturn ${rootFn};`) as (
    asJson: (value: unknown) => string,
    toBase64: (value: unknown) => string,
    numberList: (value: unknown) => string,
    whole: (write: Serialize, value: unknown) => string,
  ) => Serialize;
  return factory(asJson, toBase64, numberList, whole);
}

function toBase64(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) return `"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}"`;
  return asJson(value);
}

/** Scalar types written as JSON numbers (timestamps as epoch seconds). */
const NUMERIC: ReadonlySet<Shape['type'] | undefined> = new Set(['integer', 'long', 'float', 'double', 'timestamp']);

/**
 * The body of the function that writes `shape`; `fnFor` names the function of another shape, `typeOf` says a
 * shape's type.
 */
function bodyOf(shape: Shape, fnFor: (shapeName: string) => string, typeOf: (shapeName: string) => Shape['type'] | undefined): string {
  switch (shape.type) {
    case 'structure': {
      if (shape.document) return 'return asJson(v);';
      const lines = ["if (typeof v !== 'object' || v === null || Array.isArray(v)) return asJson(v);", "let o = '';", 'let x;'];
      // Each member opens with `{` when first, `,` after: no slice of the text at the end, which copied (flattened)
      // all of it — for a large answer, megabytes — once per enclosing structure.
      for (const [member, target] of Object.entries(shape.members)) {
        const key = JSON.stringify(member);
        const name = `${JSON.stringify(member)}:`;
        lines.push(`x = v[${key}]; if (x != null) o += (o === '' ? ${JSON.stringify(`{${name}`)} : ${JSON.stringify(`,${name}`)}) + ${fnFor(target.shape)}(x);`);
      }
      lines.push("return o === '' ? '{}' : o + '}';");
      return lines.join('\n');
    }
    case 'list':
      // A list of numbers (GetMetricData's 144,000 timestamps and values) by JSON.stringify: the same text as the
      // loop below writes for every element (numbers as ''+v, non-finite and absent as null, anything else as
      // asJson), from V8's own array walk instead of a string piece and a concatenation per element (4× faster).
      if (NUMERIC.has(typeOf(shape.member.shape))) return 'return numberList(v);';
      return [
        'if (!Array.isArray(v)) return asJson(v);',
        "let o = '[';",
        'for (let i = 0; i < v.length; i++) {',
        "  if (i > 0) o += ',';",
        `  o += v[i] == null ? 'null' : ${fnFor(shape.member.shape)}(v[i]);`,
        '}',
        "return o + ']';",
      ].join('\n');
    case 'map':
      return [
        "if (typeof v !== 'object' || v === null || Array.isArray(v)) return asJson(v);",
        "let o = '';",
        'for (const k in v) {',
        '  const x = v[k];',
        `  if (x != null && Object.hasOwn(v, k)) o += (o === '' ? '{' : ',') + JSON.stringify(k) + ':' + ${fnFor(shape.value.shape)}(x);`,
        '}',
        "return o === '' ? '{}' : o + '}';",
      ].join('\n');
    case 'string':
      return 'return JSON.stringify(v);';
    case 'boolean':
      return "return v === true ? 'true' : v === false ? 'false' : asJson(v);";
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
    case 'timestamp':
      // Timestamps are epoch seconds on the wire (numbers), as berth's records already hold them.
      return "return typeof v === 'number' ? (Number.isFinite(v) ? '' + v : 'null') : asJson(v);";
    case 'blob':
      return 'return toBase64(v);';
  }
}
