import type { ErrorObject } from 'ajv';
import { ServiceError } from '../../model/errors.js';
import type { MemberRef, ServiceModel, Shape } from './service-model.js';

/**
 * The AWS Query protocol's request side (IAM, STS; ELBv2, Auto Scaling and CloudWatch speak it too): a
 * form-encoded body of flat names — `Action=CreateUser&Version=2010-05-08&UserName=alice`, lists as
 * `Tags.member.1.Key`, maps as `Attributes.entry.1.key`/`.value`, nested structures as `A.B` — decoded into the
 * operation's input structure, driven by the model alone (no per-service code), scalars typed by their shapes.
 * What the model's constraints say is then checked by the shared ShapeValidator, with
 * {@link queryValidationError} wording its failures as AWS's Query services do.
 */

/** The form's names and values; a name given twice keeps its last value. */
export function parseForm(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) params.set(name, value);
  return params;
}

/** Nesting beyond this is refused: no model nests inputs this deep, and recursion must stay bounded. */
const MAX_DEPTH = 20;
/** A list index is 1-based and at most this many digits. */
const INDEX = /^[1-9]\d{0,5}$/;

/** The form's names as a tree of their dot-separated segments: what is under a name is found without scanning every name. */
interface FormNode {
  value?: string;
  children?: Map<string, FormNode>;
}

function formTree(params: ReadonlyMap<string, string>): FormNode {
  const root: FormNode = {};
  for (const [name, value] of params) {
    let node = root;
    for (const segment of name.split('.')) {
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (!child) node.children.set(segment, (child = {}));
      node = child;
    }
    node.value = value;
  }
  return root;
}

/** The node of `path` (a member's location name, which could hold dots) under `node`. */
function under(node: FormNode | undefined, path: string): FormNode | undefined {
  if (!path.includes('.')) return node?.children?.get(path);
  for (const segment of path.split('.')) node = node?.children?.get(segment);
  return node;
}

/**
 * The input structure `shapeName` from form `params` (Action and Version are the protocol's, not the input's).
 * Names the model does not know are ignored, as AWS does. Throws ValidationError for a scalar that is not of its
 * shape's type (a non-number integer, a boolean other than true/false, a timestamp that is no date).
 * Linear in the form's size (a PutMetricData of 1,000 datums is 5,000 names): each name is visited once.
 */
export function decodeQueryInput(model: ServiceModel, shapeName: string, params: ReadonlyMap<string, string>): Record<string, unknown> {
  const decoder = new Decoder(model);
  return (decoder.structure(shapeName, '', formTree(params), 0) ?? {}) as Record<string, unknown>;
}

class Decoder {
  constructor(private readonly model: ServiceModel) {}

  /** `prefix`: the structure's full form name (its members' names, and messages); `node`: what the form holds under it. */
  structure(shapeName: string, prefix: string, node: FormNode | undefined, depth: number): Record<string, unknown> | undefined {
    const shape = this.shape(shapeName);
    if (shape.type !== 'structure') return undefined;
    if (prefix !== '' && !(node?.children && node.children.size > 0)) return undefined;
    const out: Record<string, unknown> = {};
    for (const [member, ref] of Object.entries(shape.members)) {
      const name = ref.locationName ?? member;
      const value = this.value(ref, prefix === '' ? name : `${prefix}.${name}`, under(node, name), depth + 1);
      if (value !== undefined) out[member] = value;
    }
    return out;
  }

  private value(ref: MemberRef, name: string, node: FormNode | undefined, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new ServiceError('ValidationError', `Parameter '${name}' is nested too deeply.`);
    const shape = this.shape(ref.shape);
    switch (shape.type) {
      case 'structure':
        return this.structure(ref.shape, name, node, depth);
      case 'list': {
        const flattened = shape.flattened === true || ref.flattened === true;
        const memberName = shape.member.locationName ?? 'member';
        const base = flattened ? name : `${name}.${memberName}`;
        const items = flattened ? node : under(node, memberName);
        const indexes = indexesOf(items);
        // An empty list is sent as the bare name with an empty value (`Tags=`).
        if (indexes.length === 0) return node?.value === '' ? [] : undefined;
        return indexes.map((i) => this.value(shape.member, `${base}.${i}`, items!.children!.get(String(i)), depth + 1) ?? '');
      }
      case 'map': {
        const flattened = ref.flattened === true;
        const base = flattened ? name : `${name}.entry`;
        const entries = flattened ? node : under(node, 'entry');
        const indexes = indexesOf(entries);
        if (indexes.length === 0) return node?.value === '' ? {} : undefined;
        const out: Record<string, unknown> = {};
        const keyName = shape.key.locationName ?? 'key';
        const valueName = shape.value.locationName ?? 'value';
        for (const i of indexes) {
          const entry = entries!.children!.get(String(i));
          const key = this.value(shape.key, `${base}.${i}.${keyName}`, under(entry, keyName), depth + 1);
          if (typeof key !== 'string') throw new ServiceError('ValidationError', `Parameter '${base}.${i}' has no key.`);
          Object.defineProperty(out, key, {
            value: this.value(shape.value, `${base}.${i}.${valueName}`, under(entry, valueName), depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      default:
        return this.scalar(shape, name, node?.value);
    }
  }

  private scalar(shape: Shape, name: string, text: string | undefined): unknown {
    if (text === undefined) return undefined;
    switch (shape.type) {
      case 'integer':
      case 'long':
        if (!/^-?\d{1,16}$/.test(text)) throw invalidScalar(text, name, 'an integer');
        return Number(text);
      case 'float':
      case 'double': {
        const n = text.trim() === '' ? NaN : Number(text);
        if (!Number.isFinite(n)) throw invalidScalar(text, name, 'a number');
        return n;
      }
      case 'boolean':
        if (text !== 'true' && text !== 'false') throw invalidScalar(text, name, 'true or false');
        return text === 'true';
      case 'timestamp': {
        const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
        if (!Number.isFinite(ms)) throw invalidScalar(text, name, 'an ISO 8601 timestamp');
        return ms / 1000;
      }
      default:
        return text;
    }
  }

  private shape(name: string): Shape {
    const shape = Object.hasOwn(this.model.shapes, name) ? this.model.shapes[name] : undefined;
    if (!shape) throw new Error(`the model has no shape ${name}`);
    return shape;
  }
}

/** The list indexes present under `node` (`1`, `2`, … as its segments, 1-based, at most six digits), in numeric order. */
function indexesOf(node: FormNode | undefined): number[] {
  if (!node?.children) return [];
  const seen: number[] = [];
  for (const segment of node.children.keys()) if (INDEX.test(segment)) seen.push(Number(segment));
  return seen.sort((a, b) => a - b);
}

/** A form value that is not of its shape's type, keeping what an API that words it differently needs (CloudWatch). */
export class InvalidQueryScalar extends ServiceError {
  constructor(
    readonly text: string,
    /** The form name, `MetricData.member.1.Value`. */
    readonly field: string,
    message: string,
  ) {
    super('ValidationError', message);
  }
}

function invalidScalar(text: string, name: string, expected: string): ServiceError {
  return new InvalidQueryScalar(text, name, `1 validation error detected: Value '${clip(text)}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must be ${expected}`);
}

const clip = (text: string) => (text.length > 256 ? `${text.slice(0, 256)}…` : text);
const lowerFirst = (s: string) => s.replace(/(^|\.)([A-Z])/g, (_m, dot: string, c: string) => dot + c.toLowerCase());

/** `/Tags/0/Key` → `tags.1.member.key`: how AWS's Query services name a field in their messages. */
export function queryFieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  return parts
    .map((raw) => {
      const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(part) ? `${Number(part) + 1}.member` : part.charAt(0).toLowerCase() + part.slice(1);
    })
    .join('.');
}

/** A model constraint the input breaks, as IAM and STS word it (`1 validation error detected: Value …`). */
export function queryValidationError(error: ErrorObject): ServiceError {
  const p = error.params as Record<string, unknown>;
  const field = queryFieldPath(error.instancePath);
  const value = (v: unknown) => (typeof v === 'string' ? `'${clip(v)}'` : Array.isArray(v) ? `[${v.length} items]` : JSON.stringify(v));
  const fail = (at: string, shown: string, constraint: string) =>
    new ServiceError('ValidationError', `1 validation error detected: Value ${shown} at '${at}' failed to satisfy constraint: ${constraint}`);
  switch (error.keyword) {
    case 'required':
      return fail(queryFieldPath(error.instancePath, String(p.missingProperty)), 'null', 'Member must not be null');
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return fail(field, value(error.data), `Member must have length greater than or equal to ${String(p.limit)}`);
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return fail(field, value(error.data), `Member must have length less than or equal to ${String(p.limit)}`);
    case 'minimum':
      return fail(field, value(error.data), `Member must have value greater than or equal to ${String(p.limit)}`);
    case 'maximum':
      return fail(field, value(error.data), `Member must have value less than or equal to ${String(p.limit)}`);
    case 'pattern':
      return fail(field, value(error.data), `Member must satisfy regular expression pattern: ${String(p.pattern).replace(/^\^|\$$/g, '')}`);
    case 'enum':
      return fail(field, value(error.data), `Member must satisfy enum value set: [${(p.allowedValues as string[]).join(', ')}]`);
    default:
      return fail(field, value(error.data), `Member ${error.message ?? 'is invalid'}`);
  }
}
