import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header, type HeaderData } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestMismatchError } from './digest.js';
import { UnsafeLayerPathError } from './layer-paths.js';
import { unpackLayer } from './layer-unpack.js';

const work = mkdtempSync(join(tmpdir(), 'berth-layer-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A tar of `dir` made by GNU tar, as image builders make them. */
function gnuTar(dir: string): Buffer {
  return execFileSync('tar', ['--numeric-owner', '--xattrs', '-C', dir, '-cf', '-', '.'], { maxBuffer: 64 << 20 });
}

/** A tar assembled header by header, for entries no sane tool would write. */
function rawTar(entries: (HeaderData & { data?: string })[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { data, ...h } of entries) {
    const body = Buffer.from(data ?? '');
    const header = new Header({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: body.length, ...h });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

let dirs = 0;
async function unpack(blob: Buffer, tar: Buffer, chunkSize = 7_000) {
  const dir = join(work, `layer-${++dirs}`);
  mkdirSync(dir);
  async function* chunks() {
    for (let i = 0; i < blob.length; i += chunkSize) yield blob.subarray(i, i + chunkSize);
  }
  const result = await unpackLayer(chunks(), dir, { digest: sha256(blob), size: blob.length, diffId: sha256(tar) });
  return { dir, result };
}

describe('unpacking a layer', () => {
  it('keeps ownership, modes (setuid too), times, symlinks, hardlinks, devices and FIFOs', async () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'private/deep'), { recursive: true });
    writeFileSync(join(src, 'private/tool'), 'binary');
    chownSync(join(src, 'private/tool'), 1000, 1001);
    chmodSync(join(src, 'private/tool'), 0o4755);
    linkSync(join(src, 'private/tool'), join(src, 'private/tool-again'));
    chownSync(join(src, 'private'), 1000, 1000);
    chmodSync(join(src, 'private'), 0o700);
    symlinkSync('/etc/passwd', join(src, 'abs-link'));
    symlinkSync('private/tool', join(src, 'rel-link'));
    execFileSync('mknod', ['-m', '600', join(src, 'fifo'), 'p']);
    execFileSync('mknod', ['-m', '666', join(src, 'null'), 'c', '1', '3']);
    utimesSync(join(src, 'private/deep'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
    const tar = gnuTar(src);

    const { dir, result } = await unpack(gzipSync(tar), tar);
    expect(result.compression).toBe('gzip');
    expect(result.tarSize).toBe(tar.length);

    const tool = statSync(join(dir, 'private/tool'));
    expect(readFileSync(join(dir, 'private/tool'), 'utf8')).toBe('binary');
    expect([tool.uid, tool.gid, tool.mode & 0o7777]).toEqual([1000, 1001, 0o4755]);
    expect(statSync(join(dir, 'private/tool-again')).ino).toBe(tool.ino);
    const priv = statSync(join(dir, 'private'));
    expect([priv.uid, priv.gid, priv.mode & 0o7777]).toEqual([1000, 1000, 0o700]);
    expect(statSync(join(dir, 'private/deep')).mtime.toISOString()).toBe('2001-02-03T04:05:06.000Z');
    expect(readlinkSync(join(dir, 'abs-link'))).toBe('/etc/passwd');
    expect(readlinkSync(join(dir, 'rel-link'))).toBe('private/tool');
    expect(lstatSync(join(dir, 'fifo')).isFIFO()).toBe(true);
    const dev = lstatSync(join(dir, 'null'));
    expect(dev.isCharacterDevice()).toBe(true);
    expect(dev.rdev).toBe(statSync('/dev/null').rdev);
  });

  it('unpacks uncompressed tars the same way', async () => {
    const src = join(work, 'plain');
    mkdirSync(join(src, 'a'), { recursive: true });
    writeFileSync(join(src, 'a/b'), 'x'.repeat(100_000));
    const tar = gnuTar(src);
    const { dir, result } = await unpack(tar, tar, 1000);
    expect(result.compression).toBe('none');
    expect(readFileSync(join(dir, 'a/b'), 'utf8')).toHaveLength(100_000);
  });

  it('turns OCI whiteouts into overlayfs whiteouts and opaque directories', async () => {
    const tar = rawTar([
      { path: 'etc/', type: 'Directory', mode: 0o755 },
      { path: 'etc/.wh.passwd', type: 'File' },
      { path: '.wh.gone', type: 'File' },
      { path: 'var/.wh..wh..opq', type: 'File' },
      { path: 'var/new', type: 'File', data: 'new' },
      { path: 'keep', type: 'File', data: 'kept' },
      { path: '.wh.keep', type: 'File' },
      { path: 'deep/er/.wh.x', type: 'File' },
      { path: '.wh.replaced', type: 'File' },
      { path: 'replaced/', type: 'Directory' },
      { path: 'replaced/fresh', type: 'File', data: 'fresh' },
    ]);
    const { dir } = await unpack(gzipSync(tar), tar);
    for (const p of ['etc/passwd', 'gone', 'deep/er/x']) {
      const st = lstatSync(join(dir, p));
      expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
    }
    expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(dir, 'var')]).toString()).toBe('y');
    expect(readFileSync(join(dir, 'var/new'), 'utf8')).toBe('new');
    expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(dir, 'replaced')]).toString()).toBe('y');
    expect(readFileSync(join(dir, 'keep'), 'utf8')).toBe('kept');
    expect(readdirSync(dir).filter((n) => n.startsWith('.wh.'))).toEqual([]);
  });

  it('lets a later entry replace an earlier one, as tar does', async () => {
    const tar = rawTar([
      { path: 'x', type: 'File', data: 'first' },
      { path: 'x', type: 'File', data: 'second' },
      { path: 'd/', type: 'Directory' },
      { path: 'd/f', type: 'File', data: 'in d' },
      { path: 'd', type: 'SymbolicLink', linkpath: '/elsewhere' },
    ]);
    const { dir } = await unpack(tar, tar);
    expect(readFileSync(join(dir, 'x'), 'utf8')).toBe('second');
    expect(readlinkSync(join(dir, 'd'))).toBe('/elsewhere');
  });

  it.each([
    ['a path with ..', [{ path: '../escaped', type: 'File' as const, data: 'x' }], /escapes the layer directory/],
    [
      'a write through a symlink',
      [
        { path: 'evil', type: 'SymbolicLink' as const, linkpath: '/tmp' },
        { path: 'evil/planted', type: 'File' as const, data: 'x' },
      ],
      /"evil" is a file or symlink in this layer/,
    ],
    ['a hardlink out of the layer', [{ path: 'h', type: 'Link' as const, linkpath: '../../etc/passwd' }], /escapes the layer directory/],
    ['a hardlink to a host file', [{ path: 'h', type: 'Link' as const, linkpath: 'etc/passwd' }], /not an earlier file of this layer/],
  ])('refuses %s', async (_name, entries, message) => {
    const tar = rawTar(entries);
    const outside = join(work, '..', 'escaped');
    await expect(unpack(tar, tar)).rejects.toThrow(message);
    await expect(unpack(tar, tar)).rejects.toBeInstanceOf(UnsafeLayerPathError);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync('/tmp/planted')).toBe(false);
  });

  it('fails on entries node-tar cannot unpack (GNU sparse files) instead of leaving them out', async () => {
    const src = join(work, 'sparse');
    mkdirSync(src);
    execFileSync('dd', ['if=/dev/zero', `of=${join(src, 'holes')}`, 'bs=1', 'count=0', 'seek=8M'], { stdio: 'ignore' });
    writeFileSync(join(src, 'plain'), 'x');
    const tar = execFileSync('tar', ['--sparse', '--format=gnu', '-C', src, '-cf', '-', '.']);
    await expect(unpack(tar, tar)).rejects.toThrow(/tar entry "\.\/holes" of type SparseFile is not supported/);
  });

  it('refuses blobs whose digest, size or diff_id does not match', async () => {
    const tar = rawTar([{ path: 'f', type: 'File', data: 'data' }]);
    const blob = gzipSync(tar);
    const source = async function* () {
      yield blob;
    };
    const dir = () => {
      const d = join(work, `bad-${++dirs}`);
      mkdirSync(d);
      return d;
    };
    const good = { digest: sha256(blob), size: blob.length, diffId: sha256(tar) };
    await expect(unpackLayer(source(), dir(), { ...good, digest: sha256(Buffer.from('other')) })).rejects.toThrow(/digest mismatch/);
    await expect(unpackLayer(source(), dir(), { ...good, size: blob.length - 1 })).rejects.toThrow(/more than the/);
    await expect(unpackLayer(source(), dir(), { ...good, size: blob.length + 1 })).rejects.toThrow(/size mismatch/);
    await expect(unpackLayer(source(), dir(), { ...good, diffId: sha256(Buffer.from('other')) })).rejects.toThrow(
      /uncompressed content does not match the config's diff_id/,
    );
    await expect(unpackLayer(source(), dir(), { ...good, diffId: sha256(Buffer.from('other')) })).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('fails cleanly when the download breaks off in the middle of a file', async () => {
    const big = Buffer.alloc(200_000, 7);
    const tar = rawTar([{ path: 'big', type: 'File', data: big.toString('latin1') }]);
    const blob = gzipSync(tar);
    const source = async function* () {
      yield blob.subarray(0, blob.length / 2);
      throw new Error('connection reset');
    };
    const dir = join(work, 'broken');
    mkdirSync(dir);
    await expect(unpackLayer(source(), dir, { digest: sha256(blob), size: blob.length, diffId: sha256(tar) })).rejects.toThrow(/connection reset/);
  });
});
