import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import { RegistryError } from '../../model/registry/errors.js';
import { checkRepositoryName, parseDigest } from '../../model/registry/names.js';
import { blobUnknown } from '../blob-records.js';
import type { Registry } from '../registry.js';
import { requireRepository } from '../repositories.js';
import { readRecord } from '../../store/transact.js';
import { parseChunkRange, type UploadState } from '../uploads.js';
import { registryPath, type RegistryRoute } from './paths.js';
import { sendFileRange } from './send-file.js';
import type { HandlerTable, RegistryCall } from './handler.js';

type Blob = Extract<RegistryRoute, { kind: 'blob' }>;
type UploadRoute = Extract<RegistryRoute, { kind: 'upload' }>;
type UploadsRoute = Extract<RegistryRoute, { kind: 'uploads' }>;

/** Blobs (GET, HEAD, DELETE) and uploads (POST, PATCH, PUT, GET status, DELETE cancel, mount). */
export function blobHandlers(registry: Registry): HandlerTable {
  const { records, uploads, blobs } = registry;

  async function getBlob({ request, reply, route }: RegistryCall<Blob>): Promise<FastifyReply> {
    checkRepositoryName(route.name);
    const digest = parseDigest(route.digest);
    const info = await records.stat(route.name, digest.value);
    if (!info) throw blobUnknown(digest.value);
    const opened = await blobs.open(digest, info.file);
    if (!opened) {
      request.log.warn({ digest: digest.value }, 'blob recorded but its file is missing');
      throw blobUnknown(digest.value);
    }
    const { handle, size } = opened;
    reply
      .header('docker-content-digest', digest.value)
      .header('accept-ranges', 'bytes')
      .header('etag', `"${digest.value}"`)
      .header('cache-control', 'max-age=31536000')
      .type('application/octet-stream');
    const range = parseRange(request.headers.range, size);
    if (range === 'unsatisfiable') {
      await handle.close();
      return reply.code(416).header('content-range', `bytes */${size}`).send();
    }
    const [start, end] = range ?? [0, size - 1];
    if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
    reply.header('content-length', String(end - start + 1));
    if (request.method === 'HEAD' || end < start) {
      await handle.close();
      return reply.send();
    }
    // Write the body ourselves (see send-file.ts); Fastify gets the reply back for its hooks and logging.
    reply.hijack();
    reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
    await sendFileRange(reply.raw, handle, start, end);
    return reply;
  }

  async function deleteBlob({ reply, route }: RegistryCall<Blob>): Promise<FastifyReply> {
    const digest = parseDigest(route.digest);
    await records.unlink(route.name, digest.value);
    return reply.code(202).header('content-length', '0').send();
  }

  async function startUpload({ reply, route, query, body }: RegistryCall<UploadsRoute>): Promise<FastifyReply> {
    const repo = route.name;
    await requireRepository({ getRecord: (parse, key) => readRecord(registry.store, parse, key) }, repo);
    if (query.mount !== undefined) {
      const digest = parseDigest(query.mount);
      if (query.from !== undefined) {
        checkRepositoryName(query.from);
        const mounted = await records.mount(repo, query.from, digest.value);
        if (mounted) return created(reply, repo, mounted.digest);
      }
      // Not mountable: fall through to an ordinary upload, as the specification asks (202).
    }
    if (query.digest !== undefined) {
      const done = await uploads.putWhole(repo, query.digest, body);
      return created(reply, repo, done.digest);
    }
    const session = await uploads.start(repo);
    return accepted(reply.code(202), body ? await uploads.append(repo, session.id, body) : session);
  }

  async function uploadStatus({ reply, route }: RegistryCall<UploadRoute>): Promise<FastifyReply> {
    return accepted(reply.code(204), await uploads.get(route.name, route.id));
  }

  async function patchUpload({ request, reply, route, body }: RegistryCall<UploadRoute>): Promise<FastifyReply> {
    const range = parseChunkRange(header(request.headers['content-range']));
    return accepted(reply.code(202), await uploads.append(route.name, route.id, body, range));
  }

  async function putUpload({ request, reply, route, query, body }: RegistryCall<UploadRoute>): Promise<FastifyReply> {
    await uploads.get(route.name, route.id);
    if (query.digest === undefined) throw new RegistryError('DIGEST_INVALID', 'the closing PUT needs ?digest=<digest of the whole blob>');
    const range = parseChunkRange(header(request.headers['content-range']));
    const done = await uploads.finish(route.name, route.id, query.digest, body, range);
    return created(reply, route.name, done.digest);
  }

  async function cancelUpload({ reply, route }: RegistryCall<UploadRoute>): Promise<FastifyReply> {
    await uploads.cancel(route.name, route.id);
    return reply.code(204).send();
  }

  return {
    blob: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob },
    uploads: { POST: startUpload },
    upload: { GET: uploadStatus, PATCH: patchUpload, PUT: putUpload, DELETE: cancelUpload },
  };
}

function created(reply: FastifyReply, repo: string, digest: string): FastifyReply {
  return reply
    .code(201)
    .header('location', registryPath(repo, 'blobs', digest))
    .header('docker-content-digest', digest)
    .header('content-length', '0')
    .send();
}

function accepted(reply: FastifyReply, session: UploadState): FastifyReply {
  return reply
    .header('location', registryPath(session.repo, 'blobs', 'uploads', session.id))
    .header('range', `0-${Math.max(session.offset - 1, 0)}`)
    .header('docker-upload-uuid', session.id)
    .header('content-length', '0')
    .send();
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A single `bytes=` range (RFC 9110) within a blob of `size` bytes: inclusive [start, end], undefined for
 * none (or a form we serve whole, such as several ranges), 'unsatisfiable' when it lies outside the blob.
 */
export function parseRange(value: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(size - suffix, 0), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}
