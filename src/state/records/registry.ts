import type { TagMutability, TagMutabilityFilter } from '../../model/registry/tag-mutability.js';
import type { Descriptor } from '../../model/registry/manifest.js';
import type { EcrTag } from '../../model/registry/repository-tags.js';
import { recordParser } from './codec.js';

export interface RepositoryRecord {
  readonly name: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly imageTagMutability: TagMutability;
  readonly imageTagMutabilityExclusionFilters?: readonly TagMutabilityFilter[];
  /** Stored and returned; berth does not scan images. */
  readonly imageScanningConfiguration: { readonly scanOnPush: boolean };
  readonly encryptionConfiguration: { readonly encryptionType: string; readonly kmsKey?: string };
  readonly tags: readonly EcrTag[];
  /**
   * Set by DeleteRepository before it removes the repository's records: pushes that read the record after
   * this are refused, so none can slip in between the listing and the deletion. Milliseconds since the
   * epoch; garbage collection finishes deletions a crash left half done.
   */
  readonly deleting?: number;
}

/** A manifest pushed to a repository. Its bytes are a blob in the blob store. */
export interface ManifestRecord {
  readonly digest: string;
  readonly mediaType: string;
  /** Bytes of the manifest itself. */
  readonly size: number;
  /** The image's size as ECR reports it: config and layers for an image; for an index, its largest child. */
  readonly imageSize: number;
  readonly pushedAt: number;
  /** Blobs this manifest keeps alive: itself, its config and its layers. */
  readonly blobs: readonly string[];
  /** For an index: the manifests it lists. */
  readonly children: readonly string[];
  /** Tags naming this manifest, sorted (kept in step with the tag records). */
  readonly tags: readonly string[];
  /** Indexes in the repository that list this manifest; it cannot be deleted while there are any. */
  readonly indexes: readonly string[];
  readonly subject?: string;
  readonly artifactType?: string;
  readonly configMediaType?: string;
}

export interface TagRecord {
  readonly digest: string;
  readonly updatedAt: number;
}

/** A blob made available in one repository (upload or mount). */
export interface BlobLinkRecord {
  readonly size: number;
  readonly linkedAt: number;
}

/** A blob whose bytes are in the blob store. */
export interface BlobRecord {
  readonly size: number;
  readonly createdAt: number;
  /**
   * The name of its file in the digest's directory (`<hex>.<unique suffix>`): a name is used by one record
   * only and never again, so removing the file of a deleted record cannot touch bytes placed for a later
   * one. Absent in records written before names were unique: the file is then `<hex>`.
   */
  readonly file?: string;
  /**
   * When garbage collection found the blob unreferenced. Anything that uses the blob again clears it;
   * collection deletes only blobs condemned for longer than its grace period.
   */
  readonly condemnedAt?: number;
}

/**
 * An OCI blob upload session. Its bytes are in `file`; `offset` of them are acknowledged. `writing` is set
 * (to the time it was claimed) while one request appends or finishes, so that no other can touch the file.
 */
export interface UploadRecord {
  readonly repo: string;
  /** The temporary file, relative to the registry directory (`uploads/<name>`). */
  readonly file: string;
  readonly offset: number;
  readonly startedAt: number;
  readonly touchedAt: number;
  readonly writing?: number;
}

/** A referrers-API entry: the descriptor of a manifest whose subject is the keyed digest. */
export type ReferrerRecord = Descriptor;

export interface LifecyclePolicyRecord {
  readonly text: string;
  readonly lastEvaluatedAt?: number;
}

export interface LifecyclePreviewRecord {
  readonly text: string;
  readonly status: 'COMPLETE' | 'FAILED';
  readonly evaluatedAt: number;
  readonly results: readonly { digest: string; tags: readonly string[]; pushedAt: number; rulePriority: number }[];
}

export const parseRepositoryRecord = recordParser<RepositoryRecord>('repository', { name: 'string', createdAt: 'number' });
export const parseManifestRecord = recordParser<ManifestRecord>('manifest', { digest: 'string', mediaType: 'string', blobs: 'array', tags: 'array' });
export const parseTagRecord = recordParser<TagRecord>('tag', { digest: 'string' });
export const parseBlobLinkRecord = recordParser<BlobLinkRecord>('blob link', { size: 'number' });
export const parseBlobRecord = recordParser<BlobRecord>('blob', { size: 'number' });
export const parseUploadRecord = recordParser<UploadRecord>('upload', { repo: 'string', file: 'string', offset: 'number', touchedAt: 'number' });
export const parseReferrerRecord = recordParser<ReferrerRecord>('referrer', { digest: 'string', mediaType: 'string' });
export const parseLifecyclePolicyRecord = recordParser<LifecyclePolicyRecord>('lifecycle policy', { text: 'string' });
export const parseLifecyclePreviewRecord = recordParser<LifecyclePreviewRecord>('lifecycle preview', { text: 'string', results: 'array' });
