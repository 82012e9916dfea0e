import { describe, expect, it } from 'vitest';
import { LogRecordError, newId, parseChunkRecord, parseGroupRecord, parseStreamRecord } from './records.js';

describe('log records', () => {
  it('parse what the service writes', () => {
    const group = { id: newId(), name: 'g', createdMs: 1, retentionDays: null, logGroupClass: 'STANDARD', tags: { a: 'b' } };
    expect(parseGroupRecord(JSON.stringify(group))).toEqual(group);
    const stream = {
      id: newId(),
      groupId: group.id,
      name: 's',
      createdMs: 1,
      firstEventMs: null,
      lastEventMs: 0,
      lastIngestionMs: null,
      storedBytes: 0,
      uploads: 0,
      nextSeq: 1,
      indexVersion: 0,
    };
    expect(parseStreamRecord(JSON.stringify(stream))).toEqual(stream);
    const chunk = { file: 'x.chunk', count: 1, minTs: 1, maxTs: 2, bytes: 3, ingested: 4 };
    expect(parseChunkRecord(JSON.stringify(chunk))).toEqual(chunk);
  });

  it('refuse records of the wrong shape instead of passing them on', () => {
    for (const bad of ['nope', '[]', '{}', JSON.stringify({ file: 'x', count: '1', minTs: 1, maxTs: 2, bytes: 3, ingested: 4 })]) {
      expect(() => parseChunkRecord(bad), bad).toThrow(LogRecordError);
    }
    expect(() => parseGroupRecord(JSON.stringify({ id: '1', name: 'g', createdMs: 1, retentionDays: null, logGroupClass: 'S', tags: { a: 1 } }))).toThrow(
      LogRecordError,
    );
  });

  it('make ids of 20 digits (they are part of GetLogEvents tokens)', () => {
    const ids = new Set(Array.from({ length: 100 }, newId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^\d{20}$/);
  });
});
