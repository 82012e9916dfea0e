import { describe, expect, it } from 'vitest';
import { MERGED_CHUNK_BYTES, MIN_RUN, SMALL_CHUNK_BYTES, smallRuns } from './chunk-compaction.js';
import type { IndexedChunk } from './chunk-retention.js';

const chunk = (seq: number, bytes: number): IndexedChunk => ({ seq, record: { file: `${seq}`, count: 1, minTs: seq, maxTs: seq, bytes, ingested: 0 } });
const seqs = (runs: IndexedChunk[][]) => runs.map((r) => r.map((c) => c.seq));

describe('smallRuns', () => {
  it('takes runs of at least MIN_RUN consecutive small chunks, broken by large ones', () => {
    const small = 1_000;
    const big = SMALL_CHUNK_BYTES;
    const chunks = [1, 2, 3].map((s) => chunk(s, small)).concat(chunk(4, big), ...[5, 6, 7, 8, 9].map((s) => chunk(s, small)));
    expect(MIN_RUN).toBe(4);
    expect(seqs(smallRuns(chunks, 100))).toEqual([[5, 6, 7, 8, 9]]);
  });

  it('bounds a run by chunks (one transaction) and by bytes (one merged file)', () => {
    const many = Array.from({ length: 10 }, (_, i) => chunk(i + 1, 10));
    expect(seqs(smallRuns(many, 4))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    const heavy = Array.from({ length: 9 }, (_, i) => chunk(i + 1, MERGED_CHUNK_BYTES / 4 - 1));
    expect(seqs(smallRuns(heavy, 100))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
  });
});
