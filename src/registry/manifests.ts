import { createHash } from 'node:crypto';
import { RegistryError } from '../model/registry/errors.js';
import { MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from '../model/registry/manifest.js';
import { checkTag, looksLikeDigest, parseDigest, type Digest } from '../model/registry/names.js';
import { isTagImmutable } from '../model/registry/tag-mutability.js';
import { keys } from '../state/keys.js';
import type { BlobLinkRecord, BlobRecord, ManifestRecord, ReferrerRecord, RepositoryRecord, TagRecord } from '../state/records/registry.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import type { BlobRecords } from './blob-records.js';
import type { BlobStore } from './blob-store.js';
import { placeAndRecord } from './blob-placement.js';
import { requireRepository } from './repositories.js';
import { parseBlobLinkRecord, parseBlobRecord, parseManifestRecord, parseTagRecord } from '../state/records/registry.js';

export interface PutManifestRequest {
  readonly repo: string;
  /** A tag, or the digest the manifest must have. */
  readonly reference: string;
  readonly bytes: Buffer;
  readonly contentType?: string | undefined;
}

export interface PutManifestResult {
  readonly digest: string;
  readonly record: ManifestRecord;
  readonly parsed: ParsedManifest;
  /** True when the manifest was already there, under this tag if one was given: nothing changed. */
  readonly unchanged: boolean;
}

export interface ResolvedManifest {
  readonly record: ManifestRecord;
  /** Tag it was found by, when the reference was a tag. */
  readonly tag?: string;
}

export const manifestUnknown = (repo: string, reference: string) =>
  new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${repo}:${reference}`, { name: repo, reference });

/**
 * Manifests and tags: push (checked against what the repository holds, tag mutability enforced), resolve,
 * read and delete. A manifest's bytes are a blob in the blob store, written before its record.
 */
export class Manifests {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly records: BlobRecords,
    private readonly now: () => number,
  ) {}

  async put(request: PutManifestRequest): Promise<PutManifestResult> {
    const { repo, reference, bytes } = request;
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${bytes.length} bytes is over the ${MAX_MANIFEST_BYTES}-byte limit`, undefined, 'too-large');
    }
    let digest: Digest;
    let tag: string | undefined;
    if (looksLikeDigest(reference)) {
      const wanted = parseDigest(reference);
      const actual = digestOf(bytes, wanted.algorithm);
      if (actual !== wanted.value) {
        throw new RegistryError('DIGEST_INVALID', `manifest digest ${actual} does not match the reference ${wanted.value}`, { digest: wanted.value, actual });
      }
      digest = wanted;
    } else {
      checkTag(reference);
      tag = reference;
      digest = parseDigest(digestOf(bytes, 'sha256'));
    }
    const parsed = parseManifest(bytes, request.contentType);

    const placement = { store: this.store, blobs: this.blobs, records: this.records, now: this.now };
    return placeAndRecord(
      placement,
      digest,
      bytes.length,
      (file) => this.blobs.writeWhole(bytes, digest, file),
      (tx) => this.record(tx, repo, digest.value, tag, bytes.length, parsed),
    );
  }

  /** Inside placeAndRecord's transaction (which has made the manifest's own blob live): the manifest and its tag. */
  private async record(tx: Tx, repo: string, digest: string, tag: string | undefined, size: number, parsed: ParsedManifest): Promise<PutManifestResult> {
    const repository = await requireRepository(tx, repo);
    const existing = await tx.getRecord(parseManifestRecord, keys.manifest(repo, digest));
    const currentTag = tag === undefined ? undefined : await tx.getRecord(parseTagRecord, keys.tag(repo, tag));
    if (existing && (tag === undefined || currentTag?.digest === digest)) {
      return { digest, record: existing, parsed, unchanged: true };
    }
    if (tag !== undefined && currentTag && currentTag.digest !== digest) checkMutable(repository, repo, tag);

    let layersSize = 0;
    for (const descriptor of parsed.blobs) {
      const link = await tx.getRecord(parseBlobLinkRecord, keys.blobLink(repo, descriptor.digest));
      const blob = link && (await this.records.use(tx, descriptor.digest));
      if (!blob) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${descriptor.digest}`, { digest: descriptor.digest }, 'missing-layer');
      }
      if (blob.size !== descriptor.size) {
        throw new RegistryError('MANIFEST_INVALID', `manifest invalid: ${descriptor.digest} is ${blob.size} bytes, not ${descriptor.size} as the manifest says`);
      }
      layersSize += blob.size;
    }
    let largestChild = 0;
    for (const child of parsed.manifests) {
      const record = await tx.getRecord(parseManifestRecord, keys.manifest(repo, child.digest));
      if (!record) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest unknown to repository: ${child.digest}`, { digest: child.digest }, 'missing-manifest');
      }
      // The child learns of its parent (which also makes a concurrent deletion of the child conflict).
      if (!record.indexes.includes(digest)) tx.putJson(keys.manifest(repo, child.digest), { ...record, indexes: [...record.indexes, digest] });
      largestChild = Math.max(largestChild, record.imageSize);
    }

    let tags = existing?.tags ?? [];
    if (tag !== undefined && !tags.includes(tag)) {
      tags = [...tags, tag].sort();
      if (currentTag) await untagIn(tx, repo, currentTag.digest, tag);
      tx.putJson(keys.tag(repo, tag), { digest, updatedAt: this.now() } satisfies TagRecord);
    }
    const record: ManifestRecord = {
      digest,
      mediaType: parsed.mediaType,
      size,
      imageSize: parsed.kind === 'index' ? largestChild : layersSize,
      pushedAt: existing?.pushedAt ?? this.now(),
      blobs: [digest, ...new Set(parsed.blobs.map((b) => b.digest))],
      children: parsed.manifests.map((m) => m.digest),
      tags,
      indexes: existing?.indexes ?? [],
      ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
      ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
      ...(parsed.config ? { configMediaType: parsed.config.mediaType } : {}),
    };
    tx.putJson(keys.manifest(repo, digest), record);
    if (parsed.subject) {
      tx.putJson(keys.referrer(repo, parsed.subject.digest, digest), {
        mediaType: parsed.mediaType,
        digest,
        size,
        ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
        ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
      } satisfies ReferrerRecord);
    }
    return { digest, record, parsed, unchanged: false };
  }

  /** Find a manifest by tag or digest; NAME_UNKNOWN / MANIFEST_UNKNOWN when absent. */
  async resolve(repo: string, reference: string): Promise<ResolvedManifest> {
    await requireRepository({ getRecord: (parse, key) => readRecord(this.store, parse, key) }, repo);
    let digest = reference;
    let tag: string | undefined;
    if (looksLikeDigest(reference)) {
      parseDigest(reference);
    } else {
      checkTag(reference);
      tag = reference;
      const tagged = await readRecord(this.store, parseTagRecord, keys.tag(repo, reference));
      if (!tagged) throw manifestUnknown(repo, reference);
      digest = tagged.digest;
    }
    const record = await readRecord(this.store, parseManifestRecord, keys.manifest(repo, digest));
    if (!record) throw manifestUnknown(repo, reference);
    return { record, ...(tag !== undefined ? { tag } : {}) };
  }

  /** Every manifest of `repo` (ECR's images), in digest order. */
  async list(repo: string): Promise<ManifestRecord[]> {
    await requireRepository({ getRecord: (parse, key) => readRecord(this.store, parse, key) }, repo);
    const out: ManifestRecord[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.store.range(keys.manifestsOf(repo), { after, limit: 500 });
      for (const entry of page.entries) out.push(parseManifestRecord(entry.value, entry.key));
      if (!page.more) return out;
      after = page.entries.at(-1)!.key;
    }
  }

  /** The manifest's bytes exactly as pushed. */
  async bytesOf(repo: string, record: ManifestRecord): Promise<Buffer> {
    const blob = await readRecord(this.store, parseBlobRecord, keys.blob(record.digest));
    const bytes = blob && (await this.blobs.readAll(parseDigest(record.digest), blob.file));
    if (!bytes) throw manifestUnknown(repo, record.digest);
    return bytes;
  }

  /** Remove a tag; the manifest it named stays (untagged). */
  async deleteTag(repo: string, tag: string): Promise<void> {
    checkTag(tag);
    await transact(this.store, async (tx) => {
      await requireRepository(tx, repo);
      await deleteTagIn(tx, repo, tag);
    });
  }

  /** Remove a manifest, every tag naming it and its referrers entry. Refused while an index in the repository lists it. */
  async delete(repo: string, digest: string): Promise<{ tags: string[] }> {
    parseDigest(digest);
    return transact(this.store, (tx) => deleteManifestIn(tx, repo, digest));
  }
}

/** Inside a transaction: remove `tag` from `repo` (the manifest stays, without it). */
export async function deleteTagIn(tx: Tx, repo: string, tag: string): Promise<string> {
  const tagged = await tx.getRecord(parseTagRecord, keys.tag(repo, tag));
  if (!tagged) throw manifestUnknown(repo, tag);
  tx.delete(keys.tag(repo, tag));
  await untagIn(tx, repo, tagged.digest, tag);
  return tagged.digest;
}

/** Drop `tag` from the tag list of manifest `digest` (the tag record itself is the caller's). */
async function untagIn(tx: Tx, repo: string, digest: string, tag: string): Promise<void> {
  const record = await tx.getRecord(parseManifestRecord, keys.manifest(repo, digest));
  if (record?.tags.includes(tag)) tx.putJson(keys.manifest(repo, digest), { ...record, tags: record.tags.filter((t) => t !== tag) });
}

/**
 * Inside a transaction: delete manifest `digest` of `repo` with its tags and referrers entry, and forget
 * it as the parent of its children. Refused (DENIED) while an index in the repository lists it.
 */
export async function deleteManifestIn(tx: Tx, repo: string, digest: string): Promise<{ tags: string[] }> {
  await requireRepository(tx, repo);
  const record = await tx.getRecord(parseManifestRecord, keys.manifest(repo, digest));
  if (!record) throw manifestUnknown(repo, digest);
  if (record.indexes.length > 0) {
    throw new RegistryError('DENIED', `manifest ${digest} is listed by the index ${record.indexes[0]}; delete that first`, { digest }, 'referenced-by-index');
  }
  for (const tag of record.tags) tx.delete(keys.tag(repo, tag));
  for (const child of record.children) {
    const childRecord = await tx.getRecord(parseManifestRecord, keys.manifest(repo, child));
    if (childRecord) tx.putJson(keys.manifest(repo, child), { ...childRecord, indexes: childRecord.indexes.filter((d) => d !== digest) });
  }
  tx.delete(keys.manifest(repo, digest));
  if (record.subject) tx.delete(keys.referrer(repo, record.subject, digest));
  return { tags: [...record.tags] };
}

function checkMutable(repository: RepositoryRecord, repo: string, tag: string): void {
  if (isTagImmutable(repository, tag)) {
    throw new RegistryError(
      'TAG_INVALID',
      `The image tag '${tag}' already exists in the '${repo}' repository and cannot be overwritten because the tag is immutable.`,
      { tag },
      'tag-immutable',
    );
  }
}

export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
