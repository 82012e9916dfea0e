import type { Logger } from 'pino';
import { RegistryError } from '../model/registry/errors.js';
import { evaluateLifecyclePolicy, parseLifecyclePolicy, type LifecycleVerdict } from '../model/registry/lifecycle-policy.js';
import { keys } from '../state/keys.js';
import type { LifecyclePolicyRecord, ManifestRecord } from '../state/records/registry.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { deleteManifestIn, type Manifests } from './manifests.js';
import { parseLifecyclePolicyRecord, parseManifestRecord } from '../state/records/registry.js';

export interface LifecycleReport {
  readonly repositories: number;
  readonly expired: number;
}

/**
 * Applies repositories' lifecycle policies: evaluates each policy against the repository's images and
 * deletes those it expires. Manifests listed by an index are not candidates (they go with their index).
 * Each deletion is its own transaction and happens only if the image still has the tags and push time it
 * was judged by; an image pushed or retagged meanwhile waits for the next run.
 */
export class LifecycleRunner {
  constructor(
    private readonly store: Store,
    private readonly manifests: Manifests,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** The verdicts `text` (or the stored policy) gives for `repo` now, without deleting anything. */
  async evaluate(repo: string, text: string): Promise<LifecycleVerdict[]> {
    const policy = parseLifecyclePolicy(text);
    const images = (await this.manifests.list(repo))
      .filter((m) => m.indexes.length === 0)
      .map((m) => ({ digest: m.digest, tags: m.tags, pushedAt: m.pushedAt }));
    return evaluateLifecyclePolicy(policy, images, this.now());
  }

  /** Apply every stored policy once. */
  async applyAll(): Promise<LifecycleReport> {
    let repositories = 0;
    let expired = 0;
    for (let after: string | undefined; ; ) {
      const page = await this.store.range(keys.lifecyclePolicies(), { after, limit: 100 });
      for (const entry of page.entries) {
        const repo = entry.key.slice(keys.lifecyclePolicies().length);
        try {
          expired += await this.apply(repo);
          repositories++;
        } catch (error) {
          this.log.warn({ err: error, repository: repo }, 'lifecycle policy not applied');
        }
      }
      if (!page.more) break;
      after = page.entries.at(-1)!.key;
    }
    if (expired > 0) this.log.info({ repositories, expired }, 'lifecycle policies applied');
    return { repositories, expired };
  }

  /** Apply `repo`'s policy once; returns how many images it expired. */
  async apply(repo: string): Promise<number> {
    const stored = (await this.store.get(keys.lifecyclePolicy(repo)))?.value;
    if (stored === undefined) return 0;
    const { text } = parseLifecyclePolicyRecord(stored, keys.lifecyclePolicy(repo));
    let expired = 0;
    for (const verdict of await this.evaluate(repo, text)) {
      const done = await transact(this.store, async (tx) => {
        const record = await tx.getRecord(parseManifestRecord, keys.manifest(repo, verdict.image.digest));
        if (!record || record.pushedAt !== verdict.image.pushedAt || !sameTags(record.tags, verdict.image.tags) || record.indexes.length > 0) {
          return false;
        }
        await deleteManifestIn(tx, repo, record.digest);
        return true;
      }).catch((error: unknown) => {
        if (error instanceof RegistryError) return false;
        throw error;
      });
      if (done) expired++;
    }
    await transact(this.store, async (tx) => {
      const policy = await tx.getRecord(parseLifecyclePolicyRecord, keys.lifecyclePolicy(repo));
      // Only stamp the policy that was applied; a policy replaced meanwhile has not been evaluated yet.
      if (policy?.text === text) tx.putJson(keys.lifecyclePolicy(repo), { ...policy, lastEvaluatedAt: this.now() } satisfies LifecyclePolicyRecord);
    });
    return expired;
  }
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
