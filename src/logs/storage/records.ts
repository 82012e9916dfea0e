import { randomBytes } from 'node:crypto';

/** A log group. `id` changes when a group is deleted and created again under the same name. */
export interface GroupRecord {
  readonly id: string;
  readonly name: string;
  readonly createdMs: number;
  readonly retentionDays: number | null;
  readonly logGroupClass: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** A log stream, with the counters PutLogEvents keeps. `lastEventMs` is 0 until the stream has events. */
export interface StreamRecord {
  readonly id: string;
  readonly groupId: string;
  readonly name: string;
  readonly createdMs: number;
  readonly firstEventMs: number | null;
  readonly lastEventMs: number;
  readonly lastIngestionMs: number | null;
  /** UTF-8 bytes of the messages in the stream's chunks. */
  readonly storedBytes: number;
  /** PutLogEvents calls accepted so far: the basis of the (ignored) sequence tokens. */
  readonly uploads: number;
  /** The seq the next chunk gets (chunks are numbered from 1). */
  readonly nextSeq: number;
  /**
   * Bumped whenever chunks are removed or replaced (retention, compaction): readers that cached the
   * stream's chunk index reload it instead of only reading the chunks added after it.
   */
  readonly indexVersion: number;
}

/** One immutable chunk file of a stream: a PutLogEvents batch, or several merged. */
export interface ChunkRecord {
  /** The file's name in the stream's directory. */
  readonly file: string;
  readonly count: number;
  readonly minTs: number;
  readonly maxTs: number;
  /** UTF-8 bytes of its messages. */
  readonly bytes: number;
  /** Ingestion time of its (newest) batch. */
  readonly ingested: number;
}

export interface StreamPurgeRecord {
  readonly streamId: string;
  readonly deletedMs: number;
}

export interface GroupPurgeRecord {
  readonly groupId: string;
  readonly name: string;
  readonly deletedMs: number;
}

/** A record in the Store that does not have the shape its key promises. */
export class LogRecordError extends Error {
  override readonly name = 'LogRecordError';
}

/**
 * A fresh id for a group or stream: 20 decimal digits from 64 random bits, so a stream id fits the digits of
 * a CloudWatch-shaped GetLogEvents token and ids are never reused (a purge of an old stream can take a while).
 */
export function newId(): string {
  return randomBytes(8).readBigUInt64BE().toString().padStart(20, '0');
}

type Fields = Record<string, unknown>;

function object(value: string, what: string): Fields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new LogRecordError(`${what}: not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new LogRecordError(`${what}: not an object`);
  return parsed as Fields;
}

function str(o: Fields, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new LogRecordError(`${what}: ${key} is not a string`);
  return v;
}

function int(o: Fields, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new LogRecordError(`${what}: ${key} is not an integer`);
  return v;
}

function intOrNull(o: Fields, key: string, what: string): number | null {
  return o[key] === null ? null : int(o, key, what);
}

function tagsOf(o: Fields, what: string): Record<string, string> {
  const v = o.tags;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new LogRecordError(`${what}: tags is not a map of strings`);
  }
  return v as Record<string, string>;
}

export function parseGroupRecord(value: string): GroupRecord {
  const w = 'log group record';
  const o = object(value, w);
  return {
    id: str(o, 'id', w),
    name: str(o, 'name', w),
    createdMs: int(o, 'createdMs', w),
    retentionDays: intOrNull(o, 'retentionDays', w),
    logGroupClass: str(o, 'logGroupClass', w),
    tags: tagsOf(o, w),
  };
}

export function parseStreamRecord(value: string): StreamRecord {
  const w = 'log stream record';
  const o = object(value, w);
  return {
    id: str(o, 'id', w),
    groupId: str(o, 'groupId', w),
    name: str(o, 'name', w),
    createdMs: int(o, 'createdMs', w),
    firstEventMs: intOrNull(o, 'firstEventMs', w),
    lastEventMs: int(o, 'lastEventMs', w),
    lastIngestionMs: intOrNull(o, 'lastIngestionMs', w),
    storedBytes: int(o, 'storedBytes', w),
    uploads: int(o, 'uploads', w),
    nextSeq: int(o, 'nextSeq', w),
    indexVersion: int(o, 'indexVersion', w),
  };
}

export function parseChunkRecord(value: string): ChunkRecord {
  const w = 'log chunk record';
  const o = object(value, w);
  return {
    file: str(o, 'file', w),
    count: int(o, 'count', w),
    minTs: int(o, 'minTs', w),
    maxTs: int(o, 'maxTs', w),
    bytes: int(o, 'bytes', w),
    ingested: int(o, 'ingested', w),
  };
}

export function parseStreamPurgeRecord(value: string): StreamPurgeRecord {
  const w = 'log stream purge record';
  const o = object(value, w);
  return { streamId: str(o, 'streamId', w), deletedMs: int(o, 'deletedMs', w) };
}

export function parseGroupPurgeRecord(value: string): GroupPurgeRecord {
  const w = 'log group purge record';
  const o = object(value, w);
  return { groupId: str(o, 'groupId', w), name: str(o, 'name', w), deletedMs: int(o, 'deletedMs', w) };
}
