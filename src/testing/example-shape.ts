import type { ServiceModel, Shape } from '../api/protocol/service-model.js';

/**
 * Compares an answer berth gave on the wire with an example output from the service model's examples file:
 * the answer must have the example's structure — every member the example has, at every level — and the
 * example's values wherever a value is not specific to one AWS account or one run.
 *
 * Which values are compared, and why:
 * - enum strings (status values, setting names, resource types) and booleans: always, they are the contract;
 * - ARNs: their partition, service and resource type, and that they name the fixture's account and region
 *   (the resource part holds ids, and ECS's long ARN format adds the cluster name to some);
 * - timestamps: only that they are timestamps (epoch seconds on the wire);
 * - other strings and numbers: equal, unless the case lists the path in `differs` with the reason.
 */
export interface ExampleRules {
  /** Paths (`a.b[].c`) whose value legitimately differs from the example, with the reason. */
  readonly differs?: Readonly<Record<string, string>>;
  /** Paths of lists that may hold more (or other) items than the example, matched by this key member. */
  readonly matchBy?: Readonly<Record<string, string>>;
  /** Paths of string lists that must contain the example's items (order and extra items free): sets. */
  readonly superset?: Readonly<Record<string, string>>;
  /** Example strings mapped to the fixture's values (names, ids) before comparing. */
  readonly mapString?: (value: string) => string;
}

/** Every way `actual` departs from `example`, as `path: what` lines (empty when it conforms). */
export function exampleMismatches(model: ServiceModel, outputShape: string, example: unknown, actual: unknown, rules: ExampleRules = {}): string[] {
  const problems: string[] = [];
  const map = rules.mapString ?? ((s: string) => s);
  const used = new Set<string>();
  const rule = <T>(table: Readonly<Record<string, T>> | undefined, path: string): T | undefined => {
    if (table && Object.hasOwn(table, path)) {
      used.add(path);
      return table[path];
    }
    return undefined;
  };

  const walk = (shapeName: string, ex: unknown, got: unknown, path: string): void => {
    const shape: Shape | undefined = model.shapes[shapeName];
    if (!shape) return void problems.push(`${path}: no shape ${shapeName} in the model`);
    if (got === undefined || got === null) return void problems.push(`${path}: missing (example has ${JSON.stringify(ex)})`);
    if (rule(rules.differs, path) !== undefined) return;
    switch (shape.type) {
      case 'structure': {
        if (typeof got !== 'object' || Array.isArray(got)) return void problems.push(`${path}: expected an object, got ${JSON.stringify(got)}`);
        for (const [name, value] of Object.entries(ex as Record<string, unknown>)) {
          const member = shape.members[name];
          const at = path ? `${path}.${name}` : name;
          if (!member) problems.push(`${at}: not in the model (example)`);
          else walk(member.shape, value, (got as Record<string, unknown>)[name], at);
        }
        return;
      }
      case 'list': {
        if (!Array.isArray(got)) return void problems.push(`${path}: expected a list, got ${JSON.stringify(got)}`);
        const exItems = ex as unknown[];
        const key = rule(rules.matchBy, path);
        const itemPath = `${path}[]`;
        if (rule(rules.superset, path) !== undefined) {
          for (const item of exItems) if (!got.includes(map(String(item)))) problems.push(`${path}: lacks ${JSON.stringify(item)}`);
          return;
        }
        if (key !== undefined) {
          for (const item of exItems) {
            const want = map(String((item as Record<string, unknown>)[key]));
            const found = got.find((g) => (g as Record<string, unknown> | null)?.[key] === want);
            if (found === undefined) problems.push(`${path}: no item with ${key} ${JSON.stringify(want)}`);
            else walk(shape.member.shape, item, found, itemPath);
          }
          return;
        }
        if (got.length !== exItems.length) problems.push(`${path}: ${got.length} items, the example has ${exItems.length}`);
        exItems.slice(0, got.length).forEach((item, i) => walk(shape.member.shape, item, got[i], itemPath));
        return;
      }
      case 'map': {
        if (typeof got !== 'object' || Array.isArray(got)) return void problems.push(`${path}: expected a map, got ${JSON.stringify(got)}`);
        for (const [k, v] of Object.entries(ex as Record<string, unknown>)) walk(shape.value.shape, v, (got as Record<string, unknown>)[k], `${path}{${k}}`);
        return;
      }
      case 'string': {
        if (typeof got !== 'string') return void problems.push(`${path}: expected a string, got ${JSON.stringify(got)}`);
        const want = map(String(ex));
        if (want.startsWith('arn:')) {
          const problem = arnMismatch(want, got);
          if (problem) problems.push(`${path}: ${problem}`);
        } else if (got !== want) problems.push(`${path}: ${JSON.stringify(got)}, the example has ${JSON.stringify(want)}${shape.enum ? ' (enum)' : ''}`);
        return;
      }
      case 'timestamp':
        if (typeof got !== 'number') problems.push(`${path}: expected a timestamp (epoch seconds), got ${JSON.stringify(got)}`);
        return;
      case 'boolean':
        if (got !== ex) problems.push(`${path}: ${JSON.stringify(got)}, the example has ${JSON.stringify(ex)}`);
        return;
      case 'blob':
        if (typeof got !== 'string') problems.push(`${path}: expected base64, got ${JSON.stringify(got)}`);
        return;
      default:
        if (typeof got !== 'number') problems.push(`${path}: expected a number, got ${JSON.stringify(got)}`);
        else if (got !== ex) problems.push(`${path}: ${got}, the example has ${JSON.stringify(ex)}`);
    }
  };
  walk(outputShape, example, actual, '');
  // A rule that matched nothing is a stale excuse: it must go.
  for (const table of [rules.differs, rules.matchBy, rules.superset])
    for (const path of Object.keys(table ?? {})) if (!used.has(path)) problems.push(`${path}: rule for a path the example does not reach`);
  return problems;
}

/** Partition, service and resource type must agree; account and region are the example's after mapping. */
function arnMismatch(want: string, got: string): string | undefined {
  const split = (arn: string) => {
    const [prefix, partition, service, region, account, ...rest] = arn.split(':');
    const resource = rest.join(':');
    return { prefix, partition, service, region, account, type: resource.split('/')[0]!.split(':')[0] };
  };
  const w = split(want);
  const g = split(got);
  for (const part of ['prefix', 'partition', 'service', 'region', 'account', 'type'] as const)
    if (w[part] !== g[part]) return `ARN ${got} differs from the example's ${want} in its ${part}`;
  return undefined;
}
