/**
 * Where the log service keeps its metadata in the Store. Event bytes are not here: they are chunk files in
 * the log directory (chunk-file.ts), which the `chunks/` keys index.
 *
 * Streams and chunks are keyed by the ids of their group and stream, not by names: a group or stream that is
 * deleted and created again under the same name gets a new id, so the old one's streams and chunks, which the
 * sweep purges later in batches, can never show through. Stream names never contain ':', group ids are
 * digits, so `streams/<groupId>:` is exactly one group's streams; chunk keys sort by their zero-padded seq.
 *
 * | key | value |
 * | --- | --- |
 * | `logs/groups/<name>` | {@link GroupRecord} |
 * | `logs/streams/<groupId>:<stream name>` | {@link StreamRecord} |
 * | `logs/stream-times/<groupId>:<last event ms, 16 digits>:<stream name>` | stream name (DescribeLogStreams by LastEventTime) |
 * | `logs/chunks/<streamId>/<seq, 15 digits>` | {@link ChunkRecord} |
 * | `logs/purge/streams/<streamId>` | {@link StreamPurgeRecord}: a deleted stream whose chunks are yet to go |
 * | `logs/purge/groups/<groupId>` | {@link GroupPurgeRecord}: a deleted group whose streams are yet to go |
 */
export const logKeys = {
  groups: 'logs/groups/',
  group: (name: string) => `logs/groups/${name}`,

  streamsOf: (groupId: string) => `logs/streams/${groupId}:`,
  stream: (groupId: string, name: string) => `logs/streams/${groupId}:${name}`,
  allStreams: 'logs/streams/',

  streamTimesOf: (groupId: string) => `logs/stream-times/${groupId}:`,
  streamTime: (groupId: string, lastEventMs: number, name: string) => `logs/stream-times/${groupId}:${pad(lastEventMs, 16)}:${name}`,

  chunksOf: (streamId: string) => `logs/chunks/${streamId}/`,
  chunk: (streamId: string, seq: number) => `logs/chunks/${streamId}/${pad(seq, SEQ_DIGITS)}`,

  streamPurges: 'logs/purge/streams/',
  streamPurge: (streamId: string) => `logs/purge/streams/${streamId}`,
  groupPurges: 'logs/purge/groups/',
  groupPurge: (groupId: string) => `logs/purge/groups/${groupId}`,
} as const;

/** Digits of a chunk's sequence number in its key (and in GetLogEvents tokens). */
export const SEQ_DIGITS = 15;

/** The seq of a chunk key (its last path segment). */
export function seqOfChunkKey(key: string): number {
  return Number(key.slice(key.lastIndexOf('/') + 1));
}

/** The stream name in a `stream-times/` key (everything after the second ':'). */
export function streamNameOfTimeKey(key: string): string {
  const afterGroup = key.indexOf(':');
  return key.slice(key.indexOf(':', afterGroup + 1) + 1);
}

/** The last segment of a purge key: the id of the stream or group to purge. */
export const idOfPurgeKey = (key: string) => key.slice(key.lastIndexOf('/') + 1);

const pad = (n: number, width: number) => String(n).padStart(width, '0');
