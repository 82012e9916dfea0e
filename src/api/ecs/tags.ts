import type { ListTagsForResourceRequest, TagResourceRequest, UntagResourceRequest } from '@aws-sdk/client-ecs';
import { parseArn } from '../../model/arn.js';
import type { ClusterRecord } from '../../model/cluster.js';
import { clientError, clusterNotFound, invalidParameter, ServiceError } from '../../model/errors.js';
import { mergeTags, removeTags, validateTags, type Tag } from '../../model/tags.js';
import { keys } from '../../state/keys.js';
import { readRecord, transact } from '../../store/transact.js';
import type { EcsEnv } from './env.js';
import { parseTaskDefinitionRef } from './task-definitions.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import type { ServiceRecord } from '../../state/records/services.js';
import type { TaskDefinitionRecord } from '../../state/records/task-definitions.js';
import type { TaskRecord } from '../../state/records/tasks.js';

import type { Parse } from '../../state/records/codec.js';
import { parseClusterRecord } from '../../state/records/clusters.js';
import { parseInstanceRecord } from '../../state/records/instances.js';
import { parseServiceRecord } from '../../state/records/services.js';
import { parseTaskDefinitionRecord } from '../../state/records/task-definitions.js';
import { parseTaskRecord } from '../../state/records/tasks.js';
import { capacityProviderKeys } from '../../state/capacity-provider-keys.js';
import { parseCapacityProvider, type CapacityProviderRecord } from '../../state/records/capacity-providers.js';
/** Where a taggable resource keeps its tags. Each resource type that supports tags adds an entry. */
interface Taggable<R> {
  readonly key: string;
  readonly parse: Parse<R>;
  readonly notFound: () => ServiceError;
  /** Undefined when the record exists but no longer counts (an INACTIVE cluster). */
  readonly tagsOf: (record: R) => Tag[] | undefined;
  readonly withTags: (record: R, tags: Tag[]) => R;
}

type Resolver = (env: EcsEnv, resource: string) => Taggable<any> | undefined;

const resolvers: Record<string, Resolver> = {
  cluster: (_env, name): Taggable<ClusterRecord> => ({
    key: keys.cluster(name), parse: parseClusterRecord,
    notFound: clusterNotFound,
    tagsOf: (c) => (c.status === 'ACTIVE' ? c.tags : undefined),
    withTags: (c, tags) => ({ ...c, tags }),
  }),
  'task-definition': (env, resource): Taggable<TaskDefinitionRecord> | undefined => {
    const ref = parseTaskDefinitionRef(env, resource);
    if (ref?.revision === undefined) return undefined;
    return {
      key: keys.taskDefinition(ref.family, ref.revision), parse: parseTaskDefinitionRecord,
      notFound: () => clientError('Unable to describe task definition.'),
      tagsOf: (r) => (r.taskDefinition.status === 'DELETE_IN_PROGRESS' ? undefined : r.tags),
      withTags: (r, tags) => ({ ...r, tags }),
    };
  },
  service: (_env, resource): Taggable<ServiceRecord> | undefined => {
    const [cluster, name, ...rest] = resource.split('/');
    if (!cluster || !name || rest.length > 0) return undefined;
    return {
      key: keys.service(cluster, name), parse: parseServiceRecord,
      notFound: () => new ServiceError('ServiceNotFoundException', 'Service not found.'),
      tagsOf: (r) => (r.status === 'INACTIVE' ? undefined : (r.tags ?? []).map((t) => ({ key: t.key!, value: t.value ?? '' }))),
      withTags: (r, tags) => ({ ...r, tags }),
    };
  },
  task: (_env, resource): Taggable<TaskRecord> | undefined => {
    const [cluster, id] = resource.split('/');
    if (!cluster || !id) return undefined;
    return {
      key: keys.task(cluster, id), parse: parseTaskRecord,
      notFound: () => invalidParameter('The referenced task was not found.'),
      tagsOf: (r) => (r.task.tags ?? []) as Tag[],
      withTags: (r, tags) => ({ ...r, task: { ...r.task, tags } }),
    };
  },
  // FARGATE and FARGATE_SPOT have no record: ECS keeps no tags on them either, and answers as for any unknown one.
  'capacity-provider': (_env, name): Taggable<CapacityProviderRecord> => ({
    key: capacityProviderKeys.provider(name), parse: parseCapacityProvider,
    notFound: () => clientError(`The specified capacity provider '${name}' does not exist.`),
    tagsOf: (r) => (r.status === 'INACTIVE' ? undefined : [...r.tags]),
    withTags: (r, tags) => ({ ...r, tags }),
  }),
  'container-instance': (_env, resource): Taggable<InstanceRecord> | undefined => {
    const [cluster, id] = resource.split('/');
    if (!cluster || !id) return undefined;
    return {
      key: keys.containerInstance(cluster, id), parse: parseInstanceRecord,
      notFound: () => invalidParameter('The referenced container instance was not found.'),
      tagsOf: (r) => (r.instance.tags ?? []) as Tag[],
      withTags: (r, tags) => ({ ...r, instance: { ...r.instance, tags } }),
    };
  },
};

function resolve(env: EcsEnv, resourceArn: string): Taggable<unknown> {
  const arn = parseArn(resourceArn);
  if (!arn || arn.service !== 'ecs') throw invalidParameter(`The ARN '${resourceArn}' is not a valid Amazon ECS resource ARN.`);
  // Own properties only: the type comes from the client, and `constructor` or `toString` are members of every object.
  const resolver = Object.hasOwn(resolvers, arn.resourceType) ? resolvers[arn.resourceType] : undefined;
  if (!resolver) throw invalidParameter(`Tagging '${arn.resourceType}' resources is not supported.`);
  const taggable = arn.region === env.scope.region && arn.accountId === env.scope.accountId ? resolver(env, arn.resource) : undefined;
  if (!taggable) throw new ServiceError('ResourceNotFoundException', `The resource ${resourceArn} does not exist.`);
  return taggable;
}

export function tagOperations(env: EcsEnv) {
  async function retag(resourceArn: string, change: (tags: Tag[]) => Tag[]): Promise<void> {
    const t = resolve(env, resourceArn);
    await transact(env.store, async (tx) => {
      const record = await tx.getRecord(t.parse, t.key);
      const tags = record === undefined ? undefined : t.tagsOf(record);
      if (tags === undefined) throw t.notFound();
      tx.putJson(t.key, t.withTags(record, change(tags)));
    });
  }

  return {
    async TagResource(input: TagResourceRequest) {
      const added = validateTags(input.tags);
      if (added.length === 0) throw invalidParameter("Missing required parameter 'tags': give at least one tag.");
      await retag(input.resourceArn!, (tags) => mergeTags(tags, added));
      return {};
    },

    async UntagResource(input: UntagResourceRequest) {
      await retag(input.resourceArn!, (tags) => removeTags(tags, input.tagKeys ?? []));
      return {};
    },

    async ListTagsForResource(input: ListTagsForResourceRequest) {
      const t = resolve(env, input.resourceArn!);
      const record = await readRecord(env.store, t.parse, t.key);
      const tags = record === undefined ? undefined : t.tagsOf(record);
      if (tags === undefined) throw t.notFound();
      return { tags };
    },
  };
}

/**
 * The tags of the ECS resource `resourceArn` names, as `{key: value}`, for aws:ResourceTag/… in the authorization
 * step; undefined when it is not one of this server's taggable resources or does not exist (nothing is thrown).
 */
export async function ecsResourceTags(env: EcsEnv, resourceArn: string): Promise<Record<string, string> | undefined> {
  let t: Taggable<unknown>;
  try {
    t = resolve(env, resourceArn);
  } catch {
    return undefined;
  }
  const record = await readRecord(env.store, t.parse, t.key);
  const tags = record === undefined ? undefined : t.tagsOf(record);
  return tags && Object.fromEntries(tags.map((tag) => [tag.key, tag.value]));
}
