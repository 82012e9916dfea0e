/**
 * Tags for `/taskWithTags`: the task's and the container instance's, asked of the control plane with
 * ListTagsForResource and the agent's own credentials (as ECS's agent does), kept for a short while so a
 * container polling the endpoint does not turn into a stream of API calls. A failed lookup is remembered
 * just as briefly and reported the way ECS reports it (an entry in the response's Errors).
 */
import type { EcsClient } from '../aws-json/services.js';

export type ListTags = (resourceArn: string) => Promise<Record<string, string>>;

/** Why a lookup failed, in the members of ECS's ErrorResponse. */
export interface TagFailure {
  readonly code?: string;
  readonly message: string;
  readonly statusCode?: number;
  readonly requestId?: string;
}

export type TagLookup = { readonly tags: Record<string, string> } | { readonly failure: TagFailure };

export interface TagCacheOptions {
  /** How long an answer is reused (default 10 s). */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class TagCache {
  private readonly entries = new Map<string, { at: number; lookup: Promise<TagLookup> }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly list: ListTags,
    options: TagCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The resource's tags or why they could not be had; concurrent callers share one request. */
  lookup(resourceArn: string): Promise<TagLookup> {
    const now = this.now();
    for (const [arn, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(arn);
    const cached = this.entries.get(resourceArn);
    if (cached) return cached.lookup;
    const lookup = this.list(resourceArn).then(
      (tags): TagLookup => ({ tags }),
      (error: unknown): TagLookup => ({ failure: describeFailure(error) }),
    );
    this.entries.set(resourceArn, { at: now, lookup });
    return lookup;
  }
}

/** An AWS SDK error (or any other) as ECS's ErrorResponse members. */
export function describeFailure(error: unknown): TagFailure {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  return {
    ...(e.$metadata && e.name ? { code: e.name } : {}),
    message: e.message ?? String(error),
    ...(e.$metadata?.httpStatusCode !== undefined ? { statusCode: e.$metadata.httpStatusCode } : {}),
    ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
  };
}

/** ListTagsForResource through the agent's ECS client. */
export function ecsTagLister(ecs: Pick<EcsClient, 'send'>): ListTags {
  return async (resourceArn) => {
    const { tags = [] } = await ecs.send('ListTagsForResource', { resourceArn });
    return Object.fromEntries(tags.map((t) => [t.key ?? '', t.value ?? '']));
  };
}
