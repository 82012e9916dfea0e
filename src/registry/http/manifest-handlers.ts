import type { FastifyReply } from 'fastify';
import { RegistryError } from '../../model/registry/errors.js';
import { MAX_MANIFEST_BYTES, MEDIA_TYPES } from '../../model/registry/manifest.js';
import { checkRepositoryName, looksLikeDigest, parseDigest } from '../../model/registry/names.js';
import { keys } from '../../state/keys.js';
import { parseRepositoryRecord, type ReferrerRecord } from '../../state/records/registry.js';
import { readRecord } from '../../store/transact.js';
import type { Registry } from '../registry.js';
import { requireRepository } from '../repositories.js';
import { registryPath, type RegistryRoute } from './paths.js';
import type { HandlerTable, RegistryCall } from './handler.js';
import { parseReferrerRecord } from '../../state/records/registry.js';

type Manifest = Extract<RegistryRoute, { kind: 'manifest' }>;
type Tags = Extract<RegistryRoute, { kind: 'tags' }>;
type Referrers = Extract<RegistryRoute, { kind: 'referrers' }>;

/** The most entries one tags/list or _catalog page returns; a Link header leads to the rest. */
export const MAX_PAGE = 1000;

/** Manifests (GET, HEAD, PUT, DELETE), tags/list, _catalog and the referrers API. */
export function manifestHandlers(registry: Registry): HandlerTable {
  const { manifests, store } = registry;
  const repository = (name: string) => requireRepository({ getRecord: (parse, key) => readRecord(store, parse, key) }, name);

  async function getManifest({ request, reply, route }: RegistryCall<Manifest>): Promise<FastifyReply> {
    const { record } = await manifests.resolve(route.name, route.reference);
    reply
      .type(record.mediaType)
      .header('docker-content-digest', record.digest)
      .header('etag', `"${record.digest}"`)
      .header('content-length', String(record.size));
    if (request.method === 'HEAD') return reply.send();
    return reply.send(await manifests.bytesOf(route.name, record));
  }

  async function putManifest({ request, reply, route, body }: RegistryCall<Manifest>): Promise<FastifyReply> {
    checkRepositoryName(route.name);
    const bytes = await readLimited(body, MAX_MANIFEST_BYTES);
    const result = await manifests.put({ repo: route.name, reference: route.reference, bytes, contentType: request.headers['content-type'] });
    reply
      .code(201)
      .header('location', registryPath(route.name, 'manifests', result.digest))
      .header('docker-content-digest', result.digest)
      .header('content-length', '0');
    if (result.parsed.subject) reply.header('oci-subject', result.parsed.subject.digest);
    return reply.send();
  }

  async function deleteManifest({ reply, route }: RegistryCall<Manifest>): Promise<FastifyReply> {
    if (looksLikeDigest(route.reference)) await manifests.delete(route.name, route.reference);
    else await manifests.deleteTag(route.name, route.reference);
    return reply.code(202).header('content-length', '0').send();
  }

  async function listTags({ reply, route, query }: RegistryCall<Tags>): Promise<FastifyReply> {
    await repository(route.name);
    const prefix = keys.tagsOf(route.name);
    const page = await pageOf(registry, prefix, query, (key) => key.slice(prefix.length));
    if (page.next !== undefined) reply.header('link', `<${registryPath(route.name, 'tags', 'list')}?n=${page.n}&last=${encodeURIComponent(page.next)}>; rel="next"`);
    return reply.type('application/json').send({ name: route.name, tags: page.items });
  }

  async function catalog({ reply, query }: RegistryCall<Extract<RegistryRoute, { kind: 'catalog' }>>): Promise<FastifyReply> {
    const prefix = keys.repositories();
    const page = await pageOf(registry, prefix, query, (key, value) =>
      parseRepositoryRecord(value, key).deleting === undefined ? key.slice(prefix.length) : undefined,
    );
    if (page.next !== undefined) reply.header('link', `</v2/_catalog?n=${page.n}&last=${encodeURIComponent(page.next)}>; rel="next"`);
    return reply.type('application/json').send({ repositories: page.items });
  }

  async function referrers({ reply, route, query }: RegistryCall<Referrers>): Promise<FastifyReply> {
    await repository(route.name);
    const digest = parseDigest(route.digest);
    const wanted = query.artifactType;
    const found: ReferrerRecord[] = [];
    for (let after: string | undefined; ; ) {
      const page = await store.range(keys.referrersOf(route.name, digest.value), { after, limit: 500 });
      for (const entry of page.entries) {
        const descriptor = parseReferrerRecord(entry.value, entry.key);
        if (wanted === undefined || descriptor.artifactType === wanted) found.push(descriptor);
      }
      if (!page.more) break;
      after = page.entries.at(-1)!.key;
    }
    if (wanted !== undefined) reply.header('oci-filters-applied', 'artifactType');
    return reply.type(MEDIA_TYPES.ociIndex).send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: found })));
  }

  return {
    manifest: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
    tags: { GET: listTags },
    catalog: { GET: catalog },
    referrers: { GET: referrers },
  };
}

/** Read a whole (small) body, refusing more than `limit` bytes without reading them all. */
async function readLimited(body: AsyncIterable<Buffer> | undefined, limit: number): Promise<Buffer> {
  if (!body) throw new RegistryError('MANIFEST_INVALID', 'manifest invalid: the request has no body');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      throw new RegistryError('MANIFEST_INVALID', `manifest invalid: more than the ${limit}-byte limit`, undefined, 'too-large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

interface Page {
  readonly items: string[];
  readonly n: number;
  /** The `last` value for the next page, when there is one. */
  readonly next?: string;
}

/**
 * One page of names under `prefix` for `?n=&last=` pagination (lexical order is key order). `select` maps
 * an entry to its name, or undefined to skip it.
 */
async function pageOf(
  registry: Registry,
  prefix: string,
  query: Readonly<Record<string, string | undefined>>,
  select: (key: string, value: string) => string | undefined,
): Promise<Page> {
  const n = query.n === undefined ? MAX_PAGE : Number(query.n);
  if (!Number.isInteger(n) || n < 0) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', `invalid number of results requested: '${query.n}'`, { n: query.n });
  }
  const size = Math.min(n, MAX_PAGE);
  const items: string[] = [];
  if (size === 0) return { items, n: size };
  let after = query.last === undefined ? undefined : prefix + query.last;
  for (;;) {
    const chunk = await registry.store.range(prefix, { after, limit: size + 1 });
    for (const entry of chunk.entries) {
      const name = select(entry.key, entry.value);
      if (name === undefined) continue;
      if (items.length === size) return { items, n: size, next: items.at(-1)! };
      items.push(name);
    }
    if (!chunk.more) return { items, n: size };
    after = chunk.entries.at(-1)!.key;
  }
}
