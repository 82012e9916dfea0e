import { RegistryError } from './errors.js';
import { tryParseDigest } from './names.js';

/** The manifest media types the registry stores and serves. */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

export type ManifestMediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];
export const manifestMediaTypes: readonly string[] = Object.values(MEDIA_TYPES);

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const DOCKER_SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(pretty)?jws$|^application\/vnd\.docker\.distribution\.manifest\.v1\+json$/;

/** Layers that may live elsewhere (`urls`) and need not be in the registry. */
const NON_DISTRIBUTABLE = /^application\/vnd\.(docker\.image\.rootfs\.foreign\.diff\.tar(\.gzip)?|oci\.image\.layer\.nondistributable\.v1\.tar(\+gzip|\+zstd)?)$/;

/** ECR and distribution both cap manifests at 4 MiB, the size the OCI spec says every registry should take. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
}

export interface ParsedManifest {
  readonly mediaType: ManifestMediaType;
  readonly kind: 'image' | 'index';
  /** Image manifests only. */
  readonly config?: Descriptor;
  /** Blobs the registry must hold for this manifest: the config and every distributable layer. */
  readonly blobs: readonly Descriptor[];
  /** Index manifests only: the manifests it lists, which must be in the same repository. */
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  /**
   * As the referrers API reports it: the manifest's own artifactType, else (image manifests) the config's
   * media type; undefined for an index without one.
   */
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

const invalid = (message: string, detail?: unknown) => new RegistryError('MANIFEST_INVALID', `manifest invalid: ${message}`, detail);

/** The media type without parameters (`; charset=utf-8`), lowercased; undefined when absent. */
export function bareMediaType(contentType: string | undefined): string | undefined {
  const bare = contentType?.split(';')[0]?.trim().toLowerCase();
  return bare ? bare : undefined;
}

/**
 * Parse and check a manifest as pushed: JSON, schema version 2, a known media type that agrees with the
 * Content-Type it was sent with, well-formed descriptors. Throws MANIFEST_INVALID saying what is wrong.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid('the body is not UTF-8 JSON');
  }
  if (!isObject(doc)) throw invalid('the body is not a JSON object');

  const declared = doc.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw invalid('mediaType must be a string');
  const sent = bareMediaType(contentType);
  const sentIsManifest = sent !== undefined && (manifestMediaTypes.includes(sent) || DOCKER_SCHEMA1.test(sent));
  if (declared !== undefined && sentIsManifest && declared !== sent) {
    throw invalid(`mediaType '${declared}' does not match the Content-Type '${sent}'`);
  }
  const mediaType = declared ?? (sentIsManifest ? sent : Array.isArray(doc.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  if (doc.schemaVersion === 1 || DOCKER_SCHEMA1.test(mediaType)) {
    throw invalid('Docker schema 1 manifests are not supported; push schema 2 or OCI manifests');
  }
  if (!manifestMediaTypes.includes(mediaType)) {
    throw invalid(`unsupported manifest media type '${mediaType}' (supported: ${manifestMediaTypes.join(', ')})`);
  }
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  const isOci = mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.ociIndex;
  const annotations = doc.annotations === undefined ? undefined : stringMap(doc.annotations, 'annotations');
  const subject = isOci && doc.subject !== undefined ? descriptor(doc.subject, 'subject') : undefined;
  const ownArtifactType = doc.artifactType === undefined ? undefined : nonEmptyString(doc.artifactType, 'artifactType');
  const common = {
    mediaType: mediaType as ManifestMediaType,
    ...(subject ? { subject } : {}),
    ...(annotations ? { annotations } : {}),
  };

  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid('an index needs a manifests array');
    if (doc.config !== undefined || doc.layers !== undefined) throw invalid('an index has no config or layers');
    const manifests = doc.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));
    return { ...common, kind: 'index', blobs: [], manifests, ...(ownArtifactType ? { artifactType: ownArtifactType } : {}) };
  }

  if (doc.manifests !== undefined) throw invalid('an image manifest has no manifests array');
  const config = descriptor(doc.config, 'config');
  if (doc.layers !== undefined && !Array.isArray(doc.layers)) throw invalid('layers must be an array');
  const layers = ((doc.layers as unknown[] | undefined) ?? []).map((d, i) => descriptor(d, `layers[${i}]`));
  if (mediaType === MEDIA_TYPES.dockerManifest && layers.length === 0) throw invalid('a Docker image manifest needs at least one layer');
  const distributable = layers.filter((l) => !(NON_DISTRIBUTABLE.test(l.mediaType) && l.urls?.length));
  return {
    ...common,
    kind: 'image',
    config,
    blobs: [config, ...distributable],
    manifests: [],
    artifactType: ownArtifactType ?? config.mediaType,
  };
}

function descriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) throw invalid(`${field} must be a descriptor object`);
  const mediaType = nonEmptyString(value.mediaType, `${field}.mediaType`);
  const digestText = nonEmptyString(value.digest, `${field}.digest`);
  if (!tryParseDigest(digestText)) throw invalid(`${field}.digest '${digestText}' is not a sha256 or sha512 digest`, { digest: digestText });
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${field}.size must be a non-negative integer`);
  const out: { -readonly [K in keyof Descriptor]: Descriptor[K] } = { mediaType, digest: digestText, size };
  if (value.artifactType !== undefined) out.artifactType = nonEmptyString(value.artifactType, `${field}.artifactType`);
  if (value.annotations !== undefined) out.annotations = stringMap(value.annotations, `${field}.annotations`);
  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || !value.urls.every((u) => typeof u === 'string')) throw invalid(`${field}.urls must be strings`);
    out.urls = value.urls as string[];
  }
  return out;
}

function nonEmptyString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${field} must be a non-empty string`);
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${field} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
