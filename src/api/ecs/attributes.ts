import type { Attribute, DeleteAttributesRequest, ListAttributesRequest, PutAttributesRequest } from '@aws-sdk/client-ecs';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { keys } from '../../state/keys.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import { transact } from '../../store/transact.js';
import { pageOfList } from '../pagination.js';
import { activeCluster } from './clusters.js';
import { instanceIdOf, isBuiltIn } from './container-instances.js';
import type { EcsEnv } from './env.js';
import { parseInstanceRecord } from '../../state/records/instances.js';

/** ECS's limit on custom attributes per container instance. */
export const MAX_CUSTOM_ATTRIBUTES = 10;
const NAME = /^[a-zA-Z0-9_\-/\\.]{1,128}$/;
const VALUE = /^[a-zA-Z0-9_\-.@/\\: ]{1,128}$/;

function checkAttribute(a: Attribute, i: number, withValue: boolean): void {
  if (!a.name || !NAME.test(a.name)) {
    throw invalidParameter(
      `attributes[${i}].name '${a.name ?? ''}' is invalid: 1–128 letters, numbers, hyphens, underscores, slashes, backslashes or periods.`,
    );
  }
  if (isBuiltIn(a.name)) throw invalidParameter(`attributes[${i}].name '${a.name}' is a built-in attribute; only custom attributes can be changed.`);
  if (withValue && a.value !== undefined && (!VALUE.test(a.value) || a.value.trim() !== a.value)) {
    throw invalidParameter(
      `attributes[${i}].value '${a.value}' is invalid: 1–128 letters, numbers, hyphens, underscores, periods, @, slashes, colons or inner spaces.`,
    );
  }
  if (a.targetType !== undefined && a.targetType !== 'container-instance') {
    throw invalidParameter(`attributes[${i}].targetType must be container-instance.`);
  }
  if (!a.targetId) throw invalidParameter(`attributes[${i}].targetId is required: the container instance to change.`);
}

/** Apply `change` to each instance named by `attributes`, all in one transaction. */
async function changeAttributes(
  env: EcsEnv,
  clusterRef: string | undefined,
  attributes: readonly Attribute[],
  change: (current: Attribute[], mine: readonly Attribute[]) => Attribute[],
): Promise<void> {
  const cluster = (await activeCluster(env, clusterRef)).clusterName;
  const byInstance = new Map<string, Attribute[]>();
  for (const a of attributes) {
    const id = instanceIdOf(env, cluster, a.targetId!);
    if (!id) throw new ServiceError('TargetNotFoundException', `Could not find container instance ${a.targetId} in cluster ${cluster}.`);
    byInstance.set(id, [...(byInstance.get(id) ?? []), a]);
  }
  await transact(env.store, async (tx) => {
    for (const [id, mine] of byInstance) {
      const key = keys.containerInstance(cluster, id);
      const record = await tx.getRecord(parseInstanceRecord, key);
      if (!record || record.instance.status === 'INACTIVE') {
        throw new ServiceError('TargetNotFoundException', `Could not find container instance ${id} in cluster ${cluster}.`);
      }
      const next = change(record.instance.attributes ?? [], mine);
      const custom = next.filter((a) => !isBuiltIn(a.name!));
      if (custom.length > MAX_CUSTOM_ATTRIBUTES) {
        throw new ServiceError(
          'AttributeLimitExceededException',
          `A container instance can have at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes; this change would leave ${custom.length}.`,
        );
      }
      tx.putJson(key, { ...record, instance: { ...record.instance, attributes: next } } satisfies InstanceRecord);
    }
  });
}

const stored = (a: Attribute): Attribute => ({ name: a.name, ...(a.value !== undefined ? { value: a.value } : {}) });

/** Custom attributes on container instances: PutAttributes, ListAttributes, DeleteAttributes. */
export function attributeOperations(env: EcsEnv) {
  return {
    async PutAttributes(input: PutAttributesRequest) {
      const attributes = input.attributes ?? [];
      if (attributes.length > MAX_CUSTOM_ATTRIBUTES) {
        throw new ServiceError('AttributeLimitExceededException', `At most ${MAX_CUSTOM_ATTRIBUTES} attributes can be put at once.`);
      }
      attributes.forEach((a, i) => checkAttribute(a, i, true));
      await changeAttributes(env, input.cluster, attributes, (current, mine) => {
        const next = [...current];
        for (const a of mine) {
          const i = next.findIndex((x) => x.name === a.name);
          if (i >= 0) next[i] = stored(a);
          else next.push(stored(a));
        }
        return next;
      });
      return { attributes };
    },

    async DeleteAttributes(input: DeleteAttributesRequest) {
      const attributes = input.attributes ?? [];
      attributes.forEach((a, i) => checkAttribute(a, i, false));
      await changeAttributes(env, input.cluster, attributes, (current, mine) =>
        current.filter((x) => !mine.some((a) => a.name === x.name && (a.value === undefined || a.value === x.value))),
      );
      return { attributes };
    },

    async ListAttributes(input: ListAttributesRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      if (input.targetType !== 'container-instance') throw invalidParameter('targetType must be container-instance.');
      if (input.attributeValue !== undefined && input.attributeName === undefined) {
        throw invalidParameter('attributeValue can only be given with attributeName.');
      }
      const { entries } = await env.store.range(keys.containerInstancesOf(cluster));
      const all: Attribute[] = [];
      for (const e of entries) {
        const { instance } = parseInstanceRecord(e.value, e.key);
        if (instance.status === 'INACTIVE') continue;
        for (const a of instance.attributes ?? []) {
          if (input.attributeName !== undefined && a.name !== input.attributeName) continue;
          if (input.attributeValue !== undefined && a.value !== input.attributeValue) continue;
          all.push({ ...stored(a), targetType: 'container-instance', targetId: instance.containerInstanceArn! });
        }
      }
      const page = pageOfList(all, input, { defaultSize: 100, maxSize: 100 });
      return { attributes: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },
  };
}
