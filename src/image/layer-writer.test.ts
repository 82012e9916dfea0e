import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header, Parser, type ReadEntry } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { LayerWriter } from './layer-writer.js';

const work = mkdtempSync(join(tmpdir(), 'berth-layer-writer-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A file entry node-tar parsed from a tar that has arrived only in part: its data is still to come. */
function fileEntryMidway(): Promise<ReadEntry> {
  const block = Buffer.alloc(512);
  new Header({ path: 'f', type: 'File', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 4096 }).encode(block, 0);
  const parser = new Parser({ strict: true });
  const entry = new Promise<ReadEntry>((resolve) => parser.once('entry', resolve));
  parser.write(Buffer.concat([block, Buffer.alloc(100)]));
  return entry;
}

describe('LayerWriter', () => {
  it('fails, rather than waiting forever, for a file entry destroyed while its file was being opened', async () => {
    // What a failed unpack does to the entry being written (a diff_id found wrong at the end of the layer):
    // a destroyed stream never emits again, and an iteration begun after the destroy would wait for ever.
    const dir = join(work, 'destroyed');
    mkdirSync(dir);
    const entry = await fileEntryMidway();
    const written = new LayerWriter(dir).write(entry);
    entry.destroy();
    await expect(written).rejects.toThrow(/destroyed/);
  });
});
