import { createHash, randomBytes } from 'node:crypto';

/**
 * A small OCI distribution client over fetch, for in-process tests that need images in berth's registry
 * quickly and want to see raw statuses and headers. (End-to-end tests use skopeo and podman instead.)
 */
export interface RegistryHttp {
  /** `http://host:port` of the registry. */
  readonly base: string;
  /** The password from GetAuthorizationToken; requests go out as Basic `AWS:<password>`. */
  readonly password: string;
}

export const sha256 = (data: Uint8Array | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export function basicAuth(password: string): string {
  return `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;
}

/** A request against the registry, authenticated unless `auth` is given (null: none). */
export async function registryFetch(
  reg: RegistryHttp,
  path: string,
  init: { method?: string; body?: Uint8Array | string; headers?: Record<string, string>; auth?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  const auth = init.auth === undefined ? basicAuth(reg.password) : init.auth;
  if (auth !== null) headers.authorization = auth;
  return fetch(new URL(path, reg.base), {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: init.body } : {}),
    redirect: 'manual',
  });
}

/** Upload a blob in one request (POST ?digest=). */
export async function pushBlob(reg: RegistryHttp, repo: string, data: Uint8Array): Promise<string> {
  const digest = sha256(data);
  const res = await registryFetch(reg, `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (res.status !== 201) throw new Error(`blob upload failed: ${res.status} ${await res.text()}`);
  return digest;
}

export async function putManifest(reg: RegistryHttp, repo: string, reference: string, manifest: object | string, mediaType?: string): Promise<Response> {
  const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  const type = mediaType ?? (typeof manifest === 'object' && 'mediaType' in manifest ? String(manifest.mediaType) : 'application/vnd.oci.image.manifest.v1+json');
  return registryFetch(reg, `/v2/${repo}/manifests/${reference}`, { method: 'PUT', body, headers: { 'content-type': type } });
}

export interface TestImage {
  readonly manifest: Record<string, unknown>;
  readonly manifestBytes: string;
  readonly digest: string;
  readonly config: Uint8Array;
  readonly layers: Uint8Array[];
}

/** A small image with random layers (each image distinct unless `layers` are shared). */
export function testImage(options: { layers?: Uint8Array[]; layerCount?: number; layerSize?: number; mediaType?: 'oci' | 'docker' } = {}): TestImage {
  const layers = options.layers ?? Array.from({ length: options.layerCount ?? 2 }, () => randomBytes(options.layerSize ?? 1024));
  const docker = options.mediaType === 'docker';
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) }, nonce: randomBytes(8).toString('hex') }));
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? 'application/vnd.docker.distribution.manifest.v2+json' : 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({
      mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha256(l),
      size: l.length,
    })),
  };
  const manifestBytes = JSON.stringify(manifest);
  return { manifest, manifestBytes, digest: sha256(manifestBytes), config, layers };
}

/** Push `image`'s blobs and manifest under `reference`; returns the manifest digest. */
export async function pushTestImage(reg: RegistryHttp, repo: string, image: TestImage, reference: string): Promise<string> {
  for (const blob of [image.config, ...image.layers]) await pushBlob(reg, repo, blob);
  const res = await putManifest(reg, repo, reference, image.manifestBytes, image.manifest.mediaType as string);
  if (res.status !== 201) throw new Error(`manifest push failed: ${res.status} ${await res.text()}`);
  return image.digest;
}

/** Log in as `aws ecr get-login-password` does: the password inside GetAuthorizationToken's token. */
export async function registryLogin(
  ecr: { send(command: unknown): Promise<unknown> },
  command: unknown,
  base: string,
): Promise<RegistryHttp> {
  const out = (await ecr.send(command)) as { authorizationData?: { authorizationToken?: string }[] };
  const token = Buffer.from(out.authorizationData![0]!.authorizationToken!, 'base64').toString('utf8');
  return { base, password: token.slice('AWS:'.length) };
}
