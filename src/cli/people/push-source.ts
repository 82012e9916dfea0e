/**
 * What `berth push` reads: an OCI image layout directory, or a tar archive — `docker save`'s (manifest.json, a
 * config and uncompressed layer tars; since Docker 25 an OCI layout as well) or an OCI layout tarred. An archive
 * is unpacked into a temporary directory first. The result lists the blobs to upload and the manifests to put,
 * children before the index that lists them, the tagged one last.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { MEDIA_TYPES } from '../../model/registry/manifest.js';
import { CliUsageError } from './settings.js';

export interface SourceBlob {
  readonly digest: string;
  readonly size: number;
  /** The file holding it. */
  readonly path: string;
  /** `config`, `layer`: what progress calls it. */
  readonly role: string;
}

export interface SourceManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface ImageSource {
  readonly blobs: SourceBlob[];
  /** Children first; the last one is the image that gets the tag. */
  readonly manifests: SourceManifest[];
  /** The name the source was saved with, if any (`busybox:latest`, or an OCI ref.name). */
  readonly name?: string | undefined;
  /** Remove what opening it unpacked. */
  close(): void;
}

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const REF_NAME = 'org.opencontainers.image.ref.name';
/** Docker 25+ and containerd name the image in full here (ref.name holds only the tag). */
const FULL_NAME = 'io.containerd.image.name';
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
}

/** Open `path` (a directory or an archive); `tag` picks among several images in an OCI layout by ref.name. */
export async function openImageSource(path: string, tag?: string): Promise<ImageSource> {
  if (!existsSync(path)) throw new CliUsageError(`${path}: no such file or directory; give an OCI image layout directory or a \`docker save\` archive`);
  if (statSync(path).isDirectory()) return readOciLayout(path, tag, () => {});
  const dir = mkdtempSync(join(tmpdir(), 'berth-push-'));
  const close = () => rmSync(dir, { recursive: true, force: true });
  try {
    await tar.x({ file: path, cwd: dir, strict: true });
    if (existsSync(join(dir, 'index.json'))) return readOciLayout(dir, tag, close);
    if (existsSync(join(dir, 'manifest.json'))) return await readDockerArchive(dir, close);
    throw new CliUsageError(`${path} has neither index.json (an OCI layout) nor manifest.json (\`docker save\`)`);
  } catch (error) {
    close();
    if (error instanceof CliUsageError) throw error;
    throw new CliUsageError(`${path} is not a readable image archive: ${(error as Error).message}`);
  }
}

function readOciLayout(dir: string, tag: string | undefined, close: () => void): ImageSource {
  if (!existsSync(join(dir, 'index.json'))) throw new CliUsageError(`${dir} is not an OCI image layout (no index.json)`);
  const index = readJson(join(dir, 'index.json'), dir) as { manifests?: Descriptor[] };
  const candidates = index.manifests ?? [];
  const named = (d: Descriptor) => d.annotations?.[REF_NAME];
  const chosen = candidates.length === 1 && tag === undefined ? candidates[0] : candidates.find((d) => tag !== undefined && (named(d) === tag || named(d)?.endsWith(`:${tag}`)));
  if (!chosen) {
    const names = candidates.map((d) => named(d) ?? d.digest).join(', ');
    throw new CliUsageError(`${dir} holds ${candidates.length} images (${names}): say which with SOURCE:REF, e.g. ${dir}:${named(candidates[0] ?? { digest: '' }) ?? 'latest'}`);
  }
  const blobs = new Map<string, SourceBlob>();
  const manifests: SourceManifest[] = [];
  const blobPath = (digest: string) => {
    const [algorithm, hex] = digest.split(':');
    const file = join(dir, 'blobs', algorithm ?? '', hex ?? '');
    if (!existsSync(file)) throw new CliUsageError(`${dir} lacks blob ${digest} (blobs/${algorithm}/${hex}): the layout is incomplete`);
    return file;
  };
  const visit = (d: Descriptor) => {
    const bytes = readFileSync(blobPath(d.digest));
    const manifest = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    const mediaType = d.mediaType ?? manifest.mediaType ?? MEDIA_TYPES.ociManifest;
    if (INDEX_TYPES.has(mediaType)) for (const child of manifest.manifests ?? []) visit(child);
    const parts = [...(manifest.config ? [{ ...manifest.config, role: 'config' }] : []), ...(manifest.layers ?? []).map((l) => ({ ...l, role: 'layer' }))];
    for (const b of parts) {
      const path = blobPath(b.digest);
      blobs.set(b.digest, { digest: b.digest, size: statSync(path).size, path, role: b.role });
    }
    manifests.push({ digest: d.digest, mediaType, bytes });
  };
  visit(chosen);
  return { blobs: [...blobs.values()], manifests, name: chosen.annotations?.[FULL_NAME] ?? named(chosen), close };
}

/** `docker save`'s own format: layers are plain tars, gzipped here on the way into a Docker schema 2 manifest. */
async function readDockerArchive(dir: string, close: () => void): Promise<ImageSource> {
  const entries = readJson(join(dir, 'manifest.json'), dir) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  if (entries.length !== 1) throw new CliUsageError(`the archive holds ${entries.length} images; berth push takes one (\`docker save IMAGE\` with one name)`);
  const entry = entries[0]!;
  const configBytes = readFileSync(join(dir, entry.Config));
  const config: SourceBlob = { digest: sha256(configBytes), size: configBytes.length, path: join(dir, entry.Config), role: 'config' };
  const layers: SourceBlob[] = [];
  for (const [i, layer] of entry.Layers.entries()) layers.push(await gzipped(join(dir, layer), join(dir, `layer-${i}.tar.gz`)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: l.digest, size: l.size })),
    }),
  );
  return { blobs: [config, ...layers], manifests: [{ digest: sha256(manifest), mediaType: MEDIA_TYPES.dockerManifest, bytes: manifest }], name: entry.RepoTags?.[0], close };
}

/** A layer as gzip (already-gzipped layers as they are), with its digest and size. */
async function gzipped(source: string, target: string): Promise<SourceBlob> {
  const head = Buffer.alloc(2);
  const fd = openSync(source, 'r');
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  const isGzip = head[0] === 0x1f && head[1] === 0x8b;
  const path = isGzip ? source : target;
  if (!isGzip) await pipeline(createReadStream(source), createGzip(), createWriteStream(target));
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { digest: `sha256:${hash.digest('hex')}`, size: statSync(path).size, path, role: 'layer' };
}

function readJson(path: string, source: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliUsageError(`${source}: ${path.slice(source.length + 1)} is not readable JSON (${(error as Error).message})`);
  }
}
