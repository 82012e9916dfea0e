/**
 * aws:ResourceTag/<key>: the tags of the resource a request acts on, read for the authorization step only when
 * one of the caller's policies could read them (a document that mentions `aws:ResourceTag/`): for everyone else
 * the step stays as cheap as before. Each API that keeps tags with its records offers a lookup by ARN (ECS:
 * clusters, services, tasks, task definitions, container instances; Secrets Manager: secrets); a resource that
 * does not exist (yet) has no tags, so a condition on one does not hold (…IfExists and Null see it absent).
 */
import type { CompiledPolicy } from '../../model/iam/index.js';
import type { RequestContext } from './declarations.js';

/** A resource's tags by its ARN; undefined when it does not exist or its service keeps no tags. */
export type ResourceTagLookup = (arn: string) => Promise<Readonly<Record<string, string>> | undefined>;

/** One lookup over several services, chosen by the ARN's service (`arn:aws:<service>:…`). */
export function resourceTagRouter(byService: Readonly<Record<string, ResourceTagLookup>>): ResourceTagLookup {
  return async (arn) => {
    const service = arn.split(':', 3)[2];
    const lookup = service !== undefined && Object.hasOwn(byService, service) ? byService[service] : undefined;
    return lookup ? lookup(arn) : undefined;
  };
}

const MENTIONS_RESOURCE_TAG = /aws:resourcetag\//i;

/**
 * Whether any of these policies could read aws:ResourceTag/…: a condition on it (its key as parsed, so JSON
 * escapes cannot hide it), or the text anywhere else (a policy variable `${aws:ResourceTag/…}`).
 */
export function policiesReadResourceTags(policies: readonly CompiledPolicy[]): boolean {
  return policies.some(
    (p) => MENTIONS_RESOURCE_TAG.test(p.document) || p.statements.some((s) => s.conditions.some((c) => c.key.toLowerCase().startsWith('aws:resourcetag/'))),
  );
}

/** `context` with `aws:ResourceTag/<key>` for each of the resource's tags. */
export function withResourceTags(context: RequestContext, tags: Readonly<Record<string, string>> | undefined): RequestContext {
  if (!tags) return context;
  const keys = Object.keys(tags);
  if (keys.length === 0) return context;
  const out: RequestContext = new Map(context);
  for (const key of keys) out.set(`aws:ResourceTag/${key}`, tags[key]!);
  return out;
}
