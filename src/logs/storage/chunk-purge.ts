import { transact } from '../../store/transact.js';
import { filesOf, removeChunkFile, removeStreamDir, streamDirs } from './chunk-file.js';
import { chunksOfStream, type SweepContext } from './chunk-retention.js';
import { idOfPurgeKey, logKeys } from './keys.js';
import { rangePages } from '../../store/range-pages.js';
import { parseChunkRecord, parseGroupPurgeRecord, parseStreamRecord } from './records.js';

/**
 * Deleted groups: each of their streams is deleted as DeleteLogStream deletes one (record and time key gone,
 * a purge record written, in one transaction per stream), then the group's purge record goes. Returns the
 * number of streams handed over.
 */
export async function purgeDeletedGroups(ctx: SweepContext): Promise<number> {
  let streams = 0;
  for await (const page of rangePages(ctx.store, logKeys.groupPurges, 100)) {
    for (const marker of page) {
      const { groupId } = parseGroupPurgeRecord(marker.value);
      for await (const streamPage of rangePages(ctx.store, logKeys.streamsOf(groupId), ctx.batch)) {
        for (const e of streamPage) {
          const s = parseStreamRecord(e.value);
          const done = await transact(ctx.store, async (tx) => {
            const cur = await tx.get(e.key);
            if (!cur || parseStreamRecord(cur.value).id !== s.id) return false;
            const current = parseStreamRecord(cur.value);
            tx.delete(e.key);
            tx.delete(logKeys.streamTime(groupId, current.lastEventMs, current.name));
            tx.putJson(logKeys.streamPurge(s.id), { streamId: s.id, deletedMs: ctx.now() });
            return true;
          });
          if (done) streams++;
        }
        if (!(await ctx.pause())) return streams;
      }
      // Only once no stream of the group is left (keys are by group id: none can be added since).
      await ctx.store.txn([{ key: marker.key, modRevision: marker.modRevision }], [{ type: 'delete', key: marker.key }]);
    }
  }
  return streams;
}

/**
 * Deleted streams: their chunk keys and files go, `batch` keys per transaction (files first: the stream is
 * unreachable, so a key whose file is gone is never read), then the stream's directory and purge record.
 * Returns the number of events purged.
 */
export async function purgeDeletedStreams(ctx: SweepContext): Promise<number> {
  let events = 0;
  for await (const page of rangePages(ctx.store, logKeys.streamPurges, 100)) {
    for (const marker of page) {
      const streamId = idOfPurgeKey(marker.key);
      for (;;) {
        const { entries, more } = await ctx.store.range(logKeys.chunksOf(streamId), { limit: ctx.batch });
        for (const e of entries) await removeChunkFile(ctx.dir, streamId, parseChunkRecord(e.value).file);
        if (entries.length) {
          await ctx.store.txn([], entries.map((e) => ({ type: 'delete', key: e.key }) as const));
          events += entries.reduce((n, e) => n + parseChunkRecord(e.value).count, 0);
        }
        if (!(await ctx.pause())) return events;
        if (!more) break;
      }
      await removeStreamDir(ctx.dir, streamId);
      await ctx.store.txn([{ key: marker.key, modRevision: marker.modRevision }], [{ type: 'delete', key: marker.key }]);
    }
  }
  return events;
}

/**
 * Files no chunk key names, older than `graceMs`: batches whose commit never happened (a crash between the
 * file and the transaction, a stream deleted meanwhile), files replaced by a trim or a merge, temporaries of
 * interrupted writes, and directories of streams that no longer exist. Younger files may belong to a write
 * still in flight. Directories are listed before the Store is read, so a file listed was either indexed by
 * then or is an orphan. Returns the number of files removed.
 */
export async function removeOrphans(ctx: SweepContext, graceMs: number): Promise<number> {
  const dirs = await streamDirs(ctx.dir);
  if (dirs.length === 0) return 0;
  const live = new Set<string>();
  for await (const page of rangePages(ctx.store, logKeys.allStreams, 1_000)) for (const e of page) live.add(parseStreamRecord(e.value).id);
  const purging = new Set<string>();
  for await (const page of rangePages(ctx.store, logKeys.streamPurges, 1_000)) for (const e of page) purging.add(idOfPurgeKey(e.key));
  const oldest = ctx.now() - graceMs;
  let removed = 0;
  for (const streamId of dirs) {
    if (purging.has(streamId)) continue;
    const files = (await filesOf(ctx.dir, streamId)).filter((f) => f.mtimeMs < oldest);
    if (files.length === 0) continue;
    const indexed = live.has(streamId) ? new Set((await chunksOfStream(ctx.store, streamId)).map((c) => c.record.file)) : new Set<string>();
    for (const f of files) {
      if (indexed.has(f.name)) continue;
      await removeChunkFile(ctx.dir, streamId, f.name);
      removed++;
    }
    if (!live.has(streamId) && (await filesOf(ctx.dir, streamId)).length === 0) await removeStreamDir(ctx.dir, streamId);
    if (!(await ctx.pause())) break;
  }
  return removed;
}
