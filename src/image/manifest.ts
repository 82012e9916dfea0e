/**
 * The four manifest formats berth pulls — OCI index and manifest, Docker manifest list and schema 2
 * manifest — parsed into one shape, the platform choice in an index, and the image config. Pure: no I/O.
 */
import { parseDigest } from './digest.js';
import type { ImageConfig } from './image-service.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** The Accept header for manifest requests: everything berth can pull, nothing it cannot. */
export const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');

const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
const IMAGE_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
const SCHEMA1_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
];

/** Layer media types whose blobs are tar archives, plain or compressed (the compression is sniffed). */
const LAYER_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);
const CONFIG_TYPES: ReadonlySet<string> = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** A manifest, index or config that berth cannot use; the message says why. */
export class InvalidManifestError extends Error {
  override readonly name = 'InvalidManifestError';
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
}

export type ParsedManifest =
  | { readonly kind: 'index'; readonly mediaType: string; readonly manifests: readonly Descriptor[] }
  | { readonly kind: 'image'; readonly mediaType: string; readonly config: Descriptor; readonly layers: readonly Descriptor[] };

export interface ParsedConfig {
  readonly config: ImageConfig;
  /** Digests of the uncompressed layers, bottom layer first. */
  readonly diffIds: readonly string[];
  readonly os?: string;
  readonly architecture?: string;
}

/**
 * Parse a manifest body. Its type comes from the body's `mediaType`, else from the response's
 * Content-Type, else from its shape (`manifests` → index; `config` and `layers` → image).
 */
export function parseManifest(body: Uint8Array, contentType?: string): ParsedManifest {
  const json = parseJsonObject(body, 'manifest');
  if (json['schemaVersion'] === 1) throw new InvalidManifestError('unsupported manifest: Docker schema 1 manifests are deprecated and not supported');
  const declared = typeof json['mediaType'] === 'string' ? json['mediaType'] : undefined;
  const header = contentType?.split(';')[0]?.trim();
  const mediaType = declared ?? (header && header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined);
  if (mediaType !== undefined && SCHEMA1_TYPES.includes(mediaType)) {
    throw new InvalidManifestError('unsupported manifest: Docker schema 1 manifests are deprecated and not supported');
  }
  const isIndex = mediaType !== undefined ? INDEX_TYPES.includes(mediaType) : Array.isArray(json['manifests']);
  const isImage = mediaType !== undefined ? IMAGE_TYPES.includes(mediaType) : 'config' in json && Array.isArray(json['layers']);
  if (isIndex) {
    if (!Array.isArray(json['manifests'])) throw new InvalidManifestError('invalid index: "manifests" is not a list');
    return {
      kind: 'index',
      mediaType: mediaType ?? MEDIA_TYPES.ociIndex,
      manifests: json['manifests'].map((d, i) => parseDescriptor(d, `manifests[${i}]`)),
    };
  }
  if (isImage) {
    if (!Array.isArray(json['layers'])) throw new InvalidManifestError('invalid manifest: "layers" is not a list');
    const config = parseDescriptor(json['config'], 'config');
    if (!CONFIG_TYPES.has(config.mediaType)) {
      throw new InvalidManifestError(`unsupported config media type "${config.mediaType}": not a container image`);
    }
    const layers = json['layers'].map((d, i) => parseDescriptor(d, `layers[${i}]`));
    for (const [i, layer] of layers.entries()) {
      if (!LAYER_TYPES.has(layer.mediaType)) throw new InvalidManifestError(`unsupported layer media type "${layer.mediaType}" at layers[${i}]`);
    }
    return { kind: 'image', mediaType: mediaType ?? MEDIA_TYPES.ociManifest, config, layers };
  }
  throw new InvalidManifestError(`unsupported manifest media type "${mediaType ?? 'none'}"`);
}

/**
 * The index entry for `platform`: os and architecture must match; among matches an entry whose variant
 * equals the wanted one wins, then one without a variant, then the first.
 */
export function selectPlatform(manifests: readonly Descriptor[], platform: Platform): Descriptor {
  const matches = manifests.filter(
    (d) => d.platform?.os === platform.os && d.platform.architecture === platform.architecture && IMAGE_TYPES.includes(d.mediaType),
  );
  const chosen =
    (platform.variant !== undefined ? matches.find((d) => d.platform?.variant === platform.variant) : undefined) ??
    matches.find((d) => d.platform?.variant === undefined) ??
    matches[0];
  if (!chosen) {
    const offered = manifests.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ');
    throw new InvalidManifestError(`no matching manifest for ${formatPlatform(platform)} in the manifest list (it offers: ${offered || 'nothing'})`);
  }
  return chosen;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Parse an image config: the container defaults and the layers' diff_ids. */
export function parseImageConfig(body: Uint8Array): ParsedConfig {
  const json = parseJsonObject(body, 'image config');
  const rootfs = json['rootfs'];
  if (!isObject(rootfs) || rootfs['type'] !== 'layers' || !Array.isArray(rootfs['diff_ids'])) {
    throw new InvalidManifestError('invalid image config: rootfs.diff_ids is missing');
  }
  const diffIds = rootfs['diff_ids'].map((d, i) => {
    if (typeof d !== 'string') throw new InvalidManifestError(`invalid image config: rootfs.diff_ids[${i}] is not a string`);
    checkDigest(d, `rootfs.diff_ids[${i}]`);
    return d;
  });
  const c = isObject(json['config']) ? json['config'] : {};
  const config: ImageConfig = {
    ...pick(c, 'Env', isStringArray),
    ...pick(c, 'Cmd', isStringArray),
    ...pick(c, 'Entrypoint', isStringArray),
    ...pick(c, 'WorkingDir', isString),
    ...pick(c, 'User', isString),
    ...pick(c, 'ExposedPorts', isObjectRecord),
    ...pick(c, 'Labels', isStringRecord),
    ...pick(c, 'StopSignal', isString),
  };
  return {
    config,
    diffIds,
    ...(typeof json['os'] === 'string' ? { os: json['os'] } : {}),
    ...(typeof json['architecture'] === 'string' ? { architecture: json['architecture'] } : {}),
  };
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new InvalidManifestError(`invalid descriptor at ${where}: not an object`);
  const { mediaType, digest, size, platform } = value;
  if (typeof mediaType !== 'string') throw new InvalidManifestError(`invalid descriptor at ${where}: mediaType is missing`);
  if (typeof digest !== 'string') throw new InvalidManifestError(`invalid descriptor at ${where}: digest is missing`);
  checkDigest(digest, where);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidManifestError(`invalid descriptor at ${where}: size must be a non-negative integer`);
  }
  let parsedPlatform: Platform | undefined;
  if (isObject(platform) && typeof platform['os'] === 'string' && typeof platform['architecture'] === 'string') {
    parsedPlatform = {
      os: platform['os'],
      architecture: platform['architecture'],
      ...(typeof platform['variant'] === 'string' && platform['variant'] !== '' ? { variant: platform['variant'] } : {}),
    };
  }
  return { mediaType, digest, size, ...(parsedPlatform ? { platform: parsedPlatform } : {}) };
}

function checkDigest(digest: string, where: string): void {
  try {
    parseDigest(digest);
  } catch (e) {
    throw new InvalidManifestError(`invalid digest at ${where}: ${(e as Error).message}`);
  }
}

function parseJsonObject(body: Uint8Array, what: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (e) {
    throw new InvalidManifestError(`invalid ${what}: not JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) throw new InvalidManifestError(`invalid ${what}: not a JSON object`);
  return json;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isObjectRecord = (v: unknown): v is Record<string, object> => isObject(v) && Object.values(v).every(isObject);
const isStringRecord = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every(isString);

function pick<K extends string, T>(from: Record<string, unknown>, key: K, is: (v: unknown) => v is T): { [P in K]?: T } {
  const v = from[key];
  return (is(v) ? { [key]: v } : {}) as { [P in K]?: T };
}
