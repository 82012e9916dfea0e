import fc from 'fast-check';
import type { ServiceModel, Shape } from '../api/protocol/service-model.js';

/**
 * fast-check arbitraries generated from an AWS service model's shapes: for any input shape, JSON values of
 * the shape's wire form (structures with their required members and any of the optional ones, enums,
 * lengths and ranges from the model, strings matching the model's pattern where fast-check can read it).
 * The API fuzz test sends them, mutated or not (see request-mutations.ts), to a real server.
 */

export interface ModelArbitraryOptions {
  /** Strings worth trying wherever a string goes (names and ARNs of resources that exist), besides generated ones. */
  readonly knownStrings?: readonly string[];
  /**
   * Strings that break servers (prototype member names, odd ARNs, …), tried now and then wherever a string goes:
   * several lists, each as likely as the others whatever their lengths.
   */
  readonly oddStrings?: readonly (readonly string[])[];
  /** Nesting beyond which structures get only their required members and lists and maps stay empty. Default 5. */
  readonly maxDepth?: number;
  /** Longest list or map generated. Default 3. */
  readonly maxItems?: number;
}

const INT32 = { min: -2_147_483_648, max: 2_147_483_647 } as const;

/** Generates inputs for the shapes of one model; arbitraries are built once per shape and depth. */
export class ModelArbitraries {
  private readonly built = new Map<string, fc.Arbitrary<unknown>>();
  private readonly maxDepth: number;
  private readonly maxItems: number;
  private readonly known: readonly string[];
  private readonly odd: readonly (readonly string[])[];

  constructor(
    private readonly model: ServiceModel,
    options: ModelArbitraryOptions = {},
  ) {
    this.maxDepth = options.maxDepth ?? 5;
    this.maxItems = options.maxItems ?? 3;
    this.known = options.knownStrings ?? [];
    this.odd = (options.oddStrings ?? []).filter((list) => list.length > 0);
  }

  /** The input of `operation` (an empty object when it has none). */
  input(operation: string): fc.Arbitrary<unknown> {
    const op = Object.hasOwn(this.model.operations, operation) ? this.model.operations[operation] : undefined;
    if (!op) throw new Error(`no operation ${operation} in the model`);
    return op.input ? this.shape(op.input.shape) : fc.constant({});
  }

  /** Values of the named shape. */
  shape(name: string, depth = 0): fc.Arbitrary<unknown> {
    const key = `${name}@${Math.min(depth, this.maxDepth + 1)}`;
    let arb = this.built.get(key);
    if (!arb) {
      // Members are built lazily (chain), so a shape that contains itself does not recurse here.
      arb = this.build(this.lookup(name), depth);
      this.built.set(key, arb);
    }
    return arb;
  }

  private lookup(name: string): Shape {
    if (!Object.hasOwn(this.model.shapes, name)) throw new Error(`no shape ${name} in the model`);
    return this.model.shapes[name]!;
  }

  private build(shape: Shape, depth: number): fc.Arbitrary<unknown> {
    const deep = depth >= this.maxDepth;
    switch (shape.type) {
      case 'structure': {
        if (shape.document) return fc.jsonValue({ maxDepth: 2 });
        const required = shape.required ?? [];
        const members: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [member, ref] of Object.entries(shape.members)) {
          if (deep && !required.includes(member)) continue;
          members[member] = fc.constant(undefined).chain(() => this.shape(ref.shape, depth + 1));
        }
        return fc.record(members, { requiredKeys: required.filter((m) => Object.hasOwn(members, m)) });
      }
      case 'list': {
        const minLength = Math.min(shape.min ?? 0, this.maxItems);
        const maxLength = deep ? minLength : Math.max(minLength, Math.min(shape.max ?? this.maxItems, this.maxItems));
        return fc.array(fc.constant(undefined).chain(() => this.shape(shape.member.shape, depth + 1)), { minLength, maxLength });
      }
      case 'map': {
        const maxLength = deep ? 0 : Math.min(shape.max ?? this.maxItems, this.maxItems);
        const entry = fc.tuple(this.shape(shape.key.shape, depth + 1), fc.constant(undefined).chain(() => this.shape(shape.value.shape, depth + 1)));
        // Object.fromEntries defines own properties, so a generated `__proto__` key stays a key.
        return fc.array(entry, { maxLength }).map((entries) => Object.fromEntries(entries));
      }
      case 'string':
        return this.string(shape);
      case 'integer':
        return integerIn(shape.min ?? INT32.min, shape.max ?? INT32.max);
      case 'long':
        return integerIn(Math.max(shape.min ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER), Math.min(shape.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
      case 'float':
      case 'double':
        return fc.double({ noNaN: true, noDefaultInfinity: true, ...(shape.min !== undefined && { min: shape.min }), ...(shape.max !== undefined && { max: shape.max }) });
      case 'boolean':
        return fc.boolean();
      case 'timestamp':
        // Epoch seconds, as the JSON protocol writes them; now-ish mostly, sometimes any.
        return fc.oneof(fc.integer({ min: 1_500_000_000, max: 2_000_000_000 }), fc.double({ min: 0, max: 4e9, noNaN: true }));
      case 'blob':
        return fc.base64String({ maxLength: 64 });
    }
  }

  private string(shape: Extract<Shape, { type: 'string' }>): fc.Arbitrary<string> {
    const odd: fc.WeightedArbitrary<string>[] = this.odd.map((list) => ({ arbitrary: fc.constantFrom(...list), weight: 1 }));
    if (shape.enum?.length) return fc.oneof({ arbitrary: fc.constantFrom(...shape.enum), weight: 9 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }, ...odd);
    const minLength = shape.min ?? 0;
    const maxLength = Math.max(minLength, Math.min(shape.max ?? 64, 64));
    const options: fc.WeightedArbitrary<string>[] = [{ arbitrary: fc.string({ minLength, maxLength }), weight: 2 }, ...odd];
    const matching = patternArbitrary(shape.pattern, shape.max);
    if (matching) options.push({ arbitrary: matching, weight: 3 });
    if (this.known.length > 0) options.push({ arbitrary: fc.constantFrom(...this.known), weight: 4 });
    return fc.oneof(...options);
  }
}

/** Integers in [min, max], with the bounds themselves and small values favoured. */
function integerIn(min: number, max: number): fc.Arbitrary<number> {
  const lo = Math.min(min, max);
  const hi = Math.max(min, max);
  const small = { min: Math.max(lo, -10), max: Math.min(hi, 100) };
  // A range entirely above 100 (IAM's 3600..43200) has no small numbers to favour.
  if (small.min > small.max) return fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(lo, hi));
  return fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(lo, hi), fc.integer(small).filter((n) => n >= lo && n <= hi));
}

/**
 * Strings matching a model pattern, when it is a JavaScript regular expression fast-check can generate from
 * (botocore patterns are Java's; some are not JavaScript's, and those fall back to plain strings).
 */
function patternArbitrary(pattern: string | undefined, maxLength: number | undefined): fc.Arbitrary<string> | undefined {
  if (pattern === undefined || pattern === '.*' || pattern === '^.*$') return undefined;
  try {
    const regex = new RegExp(pattern.startsWith('^') ? pattern : `^(?:${pattern})$`, 'u');
    const arb = fc.stringMatching(regex, { size: 'small' });
    // Try once: some patterns compile but fast-check cannot generate from them.
    fc.sample(arb, { numRuns: 1, seed: 1 });
    // Cut to the model's length rather than filter (a filter that never passes would spin forever).
    return maxLength === undefined ? arb : arb.map((s) => s.slice(0, maxLength));
  } catch {
    return undefined;
  }
}
