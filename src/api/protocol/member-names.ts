import type { ServiceModel } from './service-model.js';

/**
 * `value` with its structures' member names spelled as the model spells them, matched regardless of case (pure):
 * EventBridge Scheduler's universal targets take an API's request as JSON written against the SDKs' PascalCase
 * members (`{"Cluster": …, "TaskDefinition": …}`), where ECS's wire names are camelCase. Map keys are the user's and
 * stay as given; a member the shape does not have stays too (the shape check drops it).
 */
export function withModelMemberNames(model: ServiceModel, shapeName: string, value: unknown): unknown {
  const shape = model.shapes[shapeName];
  if (!shape || value === null || typeof value !== 'object') return value;
  if (shape.type === 'list') return Array.isArray(value) ? value.map((item) => withModelMemberNames(model, shape.member.shape, item)) : value;
  if (Array.isArray(value)) return value;
  if (shape.type === 'map') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withModelMemberNames(model, shape.value.shape, v)]));
  if (shape.type !== 'structure' || shape.document) return value;
  const byLowerName = new Map(Object.keys(shape.members).map((name) => [name.toLowerCase(), name]));
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const name = Object.hasOwn(shape.members, key) ? key : (byLowerName.get(key.toLowerCase()) ?? key);
      const member = shape.members[name];
      return [name, member ? withModelMemberNames(model, member.shape, v) : v];
    }),
  );
}
