import type { ServiceModel, Shape } from '../api/protocol/service-model.js';

/**
 * The Query protocol's form body for an input value, as the SDKs write it (`Tags.member.1.Key=…`), for tests and the
 * fuzzer. Lenient on purpose: a value that does not fit its shape (a mutated input) is still written, the way a
 * careless client would write it, so that the server's decoder meets it.
 */
export function encodeQueryForm(model: ServiceModel, shapeName: string | undefined, action: string, version: string, value: unknown): string {
  const pairs: [string, string][] = [
    ['Action', action],
    ['Version', version],
  ];
  const shapeOf = (name: string | undefined): Shape | undefined => (name !== undefined && Object.hasOwn(model.shapes, name) ? model.shapes[name] : undefined);

  const walk = (prefix: string, shape: Shape | undefined, v: unknown, depth: number): void => {
    if (depth > 40) return;
    const at = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);
    if (Array.isArray(v)) {
      const member = shape?.type === 'list' ? shape.member : undefined;
      const base = shape?.type === 'list' && shape.flattened ? prefix : at(member?.locationName ?? 'member');
      if (v.length === 0) pairs.push([prefix, '']);
      v.forEach((item, i) => walk(`${base}.${i + 1}`, shapeOf(member?.shape), item, depth + 1));
      return;
    }
    if (typeof v === 'object' && v !== null) {
      if (shape?.type === 'map') {
        Object.entries(v).forEach(([k, item], i) => {
          pairs.push([`${prefix}.entry.${i + 1}.key`, k]);
          walk(`${prefix}.entry.${i + 1}.value`, shapeOf(shape.value.shape), item, depth + 1);
        });
        return;
      }
      const members = shape?.type === 'structure' ? shape.members : {};
      for (const [k, item] of Object.entries(v)) {
        const ref = Object.hasOwn(members, k) ? members[k] : undefined;
        walk(at(ref?.locationName ?? k), shapeOf(ref?.shape), item, depth + 1);
      }
      return;
    }
    if (v === undefined || prefix === '') return;
    const date = shape?.type === 'timestamp' && typeof v === 'number' ? new Date(v * 1000) : undefined;
    pairs.push([prefix, date && !Number.isNaN(date.getTime()) ? date.toISOString() : String(v)]);
  };
  walk('', shapeOf(shapeName), value, 0);
  return new URLSearchParams(pairs).toString();
}
