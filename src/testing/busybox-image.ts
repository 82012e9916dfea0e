import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';

const run = promisify(execFile);

/** Debian's busybox-static: one static binary that is sh, httpd, sleep, wget, … */
export const BUSYBOX = '/bin/busybox';

/** The applets linked into test images. */
export const BUSYBOX_APPLETS = [
  'sh', 'ash', 'cat', 'echo', 'env', 'false', 'true', 'sleep', 'ls', 'id', 'hostname', 'httpd', 'wget', 'nc',
  'ps', 'kill', 'head', 'tail', 'grep', 'sed', 'awk', 'mkdir', 'rm', 'cp', 'mv', 'touch', 'dd', 'stat', 'test',
  'date', 'wc', 'seq', 'yes', 'printf', 'ip', 'ifconfig', 'mount', 'df', 'du', 'pwd', 'whoami', 'uname', 'nslookup',
  'trap', 'timeout', 'chmod', 'chown', 'ln', 'find', 'xargs', 'sort', 'uniq', 'tr', 'cut', 'basename', 'dirname',
];

/**
 * Lay out a minimal Linux root filesystem in `dir`: /bin/busybox with applet symlinks, /etc/passwd and
 * /etc/group (root and nobody), and the empty mount points a runtime expects.
 */
export function writeBusyboxRootfs(dir: string, extraFiles: Record<string, string | Buffer> = {}): void {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var/www', 'home']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'var/www/index.html'), 'hello from berth\n');
  for (const [path, contents] of Object.entries(extraFiles)) {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, contents);
  }
}

export interface ImageOptions {
  readonly cmd?: string[];
  readonly entrypoint?: string[];
  readonly env?: string[];
  readonly workingDir?: string;
  readonly user?: string;
  readonly exposedPorts?: string[];
  readonly labels?: Record<string, string>;
  /** Files added in a second layer on top of the busybox layer (path → contents). */
  readonly extraLayer?: Record<string, string | Buffer>;
  /** Paths of `extraLayer` written executable (0755), e.g. a binary and its dynamic loader. */
  readonly executables?: readonly string[];
  /** Paths the second layer deletes with OCI whiteouts (`.wh.<name>`). */
  readonly whiteouts?: string[];
  /** Directories the second layer makes opaque (`<dir>/.wh..wh..opq`): nothing below shows through. */
  readonly opaqueDirs?: string[];
  /** The config's architecture (default amd64); the busybox binary stays amd64 either way. */
  readonly architecture?: string;
}

export interface BuiltImage {
  /** An OCI image layout directory, usable as `oci:<dir>:<tag>` by skopeo. */
  readonly layoutDir: string;
  readonly tag: string;
  /** For a multi-platform image: the digest of its index. */
  readonly manifestDigest: string;
  readonly manifestSize: number;
  readonly configDigest: string;
  readonly layerDigests: string[];
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Build a busybox image as an OCI image layout (gzip layers, linux/amd64) in `layoutDir`. */
export async function buildBusyboxImage(layoutDir: string, tag = 'latest', options: ImageOptions = {}): Promise<BuiltImage> {
  const staging = mkdtempSync(join(tmpdir(), 'berth-image-'));
  try {
    const layers: { tar: Buffer }[] = [];
    const base = join(staging, 'base');
    writeBusyboxRootfs(base);
    layers.push({ tar: await tarDirectory(base) });
    if (options.extraLayer || options.whiteouts || options.opaqueDirs) {
      const top = join(staging, 'top');
      mkdirSync(top);
      for (const [path, contents] of Object.entries(options.extraLayer ?? {})) {
        mkdirSync(join(top, path, '..'), { recursive: true });
        writeFileSync(join(top, path), contents);
        if (options.executables?.includes(path)) chmodSync(join(top, path), 0o755);
      }
      for (const path of options.whiteouts ?? []) {
        const slash = path.lastIndexOf('/');
        const parent = join(top, path.slice(0, slash));
        mkdirSync(parent, { recursive: true });
        writeFileSync(join(parent, `.wh.${path.slice(slash + 1)}`), '');
      }
      for (const dir of options.opaqueDirs ?? []) {
        mkdirSync(join(top, dir), { recursive: true });
        writeFileSync(join(top, dir, '.wh..wh..opq'), '');
      }
      layers.push({ tar: await tarDirectory(top) });
    }

    mkdirSync(join(layoutDir, 'blobs/sha256'), { recursive: true });
    const putBlob = (data: Buffer) => {
      const digest = sha256(data);
      writeFileSync(join(layoutDir, 'blobs/sha256', digest.slice(7)), data);
      return { digest, size: data.length };
    };
    const layerDescs = layers.map((l) => ({ ...putBlob(gzipSync(l.tar)), diffId: sha256(l.tar) }));
    const config = {
      architecture: options.architecture ?? 'amd64',
      os: 'linux',
      created: new Date(0).toISOString(),
      config: {
        Env: options.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(options.cmd ? { Cmd: options.cmd } : { Cmd: ['sh'] }),
        ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
        ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
        ...(options.user ? { User: options.user } : {}),
        ...(options.labels ? { Labels: options.labels } : {}),
        ...(options.exposedPorts ? { ExposedPorts: Object.fromEntries(options.exposedPorts.map((p) => [p, {}])) } : {}),
      },
      rootfs: { type: 'layers', diff_ids: layerDescs.map((l) => l.diffId) },
      history: layerDescs.map(() => ({ created: new Date(0).toISOString(), created_by: 'berth test image builder' })),
    };
    const configBlob = putBlob(Buffer.from(JSON.stringify(config)));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers: layerDescs.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    };
    const manifestBlob = putBlob(Buffer.from(JSON.stringify(manifest)));
    writeFileSync(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(layoutDir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifestBlob,
            annotations: { 'org.opencontainers.image.ref.name': tag },
            platform: { architecture: options.architecture ?? 'amd64', os: 'linux' },
          },
        ],
      }),
    );
    return {
      layoutDir,
      tag,
      manifestSize: manifestBlob.size,
      manifestDigest: manifestBlob.digest,
      configDigest: configBlob.digest,
      layerDigests: layerDescs.map((l) => l.digest),
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Build one busybox image per architecture into `layoutDir` and tag an OCI index over them, the shape of a
 * multi-platform image. Each platform's image gets a file `/platform` naming its architecture.
 */
export async function buildMultiPlatformImage(
  layoutDir: string,
  tag: string,
  architectures: string[],
  options: ImageOptions = {},
): Promise<BuiltImage & { platforms: Record<string, BuiltImage> }> {
  const platforms: Record<string, BuiltImage> = {};
  for (const architecture of architectures) {
    platforms[architecture] = await buildBusyboxImage(layoutDir, `${tag}-${architecture}`, {
      ...options,
      architecture,
      extraLayer: { ...options.extraLayer, platform: `${architecture}\n` },
    });
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: architectures.map((architecture) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: platforms[architecture]!.manifestDigest,
        size: platforms[architecture]!.manifestSize,
        platform: { architecture, os: 'linux' },
      })),
    }),
  );
  const digest = sha256(index);
  writeFileSync(join(layoutDir, 'blobs/sha256', digest.slice(7)), index);
  writeFileSync(
    join(layoutDir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.index.v1+json', digest, size: index.length, annotations: { 'org.opencontainers.image.ref.name': tag } },
      ],
    }),
  );
  const first = platforms[architectures[0]!]!;
  return { ...first, tag, manifestDigest: digest, manifestSize: index.length, platforms };
}

async function tarDirectory(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // portable: no uid/gid/uname from this machine, so every file belongs to root in the image.
  const stream = tar.c({ cwd: dir, portable: true, noMtime: true }, ['.']);
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface PushOptions {
  /** Manifest format to write: `v2s2` converts to a Docker schema 2 manifest (gzip layers only). */
  readonly format?: 'oci' | 'v2s2';
  /** Recompress layers on the way (`zstd` needs the OCI format). */
  readonly compressFormat?: 'gzip' | 'zstd';
  /** Copy every image of a multi-platform index, and the index itself. */
  readonly all?: boolean;
}

/** Copy an OCI layout image into a registry with skopeo (plain HTTP, as for loopback registries). */
export async function pushImage(
  image: BuiltImage,
  destination: string,
  credentials?: { username: string; password: string },
  options: PushOptions = {},
): Promise<void> {
  await run('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    ...(credentials ? ['--dest-creds', `${credentials.username}:${credentials.password}`] : []),
    ...(options.format ? ['--format', options.format] : []),
    ...(options.compressFormat ? ['--dest-compress-format', options.compressFormat, '--dest-compress'] : []),
    ...(options.all ? ['--all'] : []),
    `oci:${image.layoutDir}:${image.tag}`,
    `docker://${destination}`,
  ]);
}
