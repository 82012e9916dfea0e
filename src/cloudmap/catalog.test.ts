import { describe, expect, it } from 'vitest';
import { cloudMapKeys } from '../state/cloudmap-keys.js';
import { MemoryStore } from '../store/memory.js';
import { CloudMapCatalog } from './catalog.js';

const scope = { region: 'us-east-1', accountId: '123456789012' };

async function withNamespace() {
  const store = new MemoryStore();
  const catalog = new CloudMapCatalog({ store, scope, now: () => 1_000 });
  const op = await catalog.createNamespace({ name: 'a.local', type: 'DNS_PRIVATE', tags: [] });
  const nsId = (await catalog.getOperation(op)).targets.NAMESPACE!;
  await catalog.runOperation(op);
  return { store, catalog, nsId };
}

const dnsService = (namespaceId: string, name: string) => ({
  name,
  namespaceId,
  dns: { routingPolicy: 'MULTIVALUE' as const, records: [{ Type: 'A' as const, TTL: 10 }] },
  customHealth: false,
  type: 'DNS_HTTP' as const,
  tags: [],
});

describe('the Cloud Map catalog on a store', () => {
  it('keeps counts exact under racing registrations (compare-and-swap on the service record)', async () => {
    const { catalog, nsId } = await withNamespace();
    const svc = await catalog.createService(dnsService(nsId, 'web'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => catalog.registerInstance(svc.id, `i-${i}`, { AWS_INSTANCE_IPV4: `10.0.0.${i}` })));
    await Promise.all(Array.from({ length: 5 }, (_, i) => catalog.deregisterInstance(svc.id, `i-${i}`)));
    const after = await catalog.service(undefined, svc.id);
    expect(after.instanceCount).toBe(15);
    expect(after.instanceRevision).toBe(25);
    expect(await catalog.instances(svc.id)).toHaveLength(15);
  });

  it('a namespace deleted while services are created: either the delete is refused or no service is left orphaned', async () => {
    for (let round = 0; round < 10; round++) {
      const { store, catalog, nsId } = await withNamespace();
      const results = await Promise.allSettled([catalog.deleteNamespace(nsId), catalog.createService(dnsService(nsId, 'web'))]);
      // The delete, when submitted, runs (as the leader's worker would).
      if (results[0].status === 'fulfilled') expect((await catalog.runOperation(results[0].value))?.status).toBe('SUCCESS');
      const services = (await store.range(cloudMapKeys.services())).entries.length;
      const namespaceLeft = (await store.get(cloudMapKeys.namespace(nsId))) !== undefined;
      if (results[0].status === 'fulfilled') {
        expect(namespaceLeft).toBe(false);
        expect(services).toBe(0);
        expect(results[1]).toMatchObject({ status: 'rejected', reason: { type: 'NamespaceNotFound' } });
      } else {
        expect(results[0].reason).toMatchObject({ type: 'ResourceInUse' });
        expect(namespaceLeft).toBe(true);
        expect(services).toBe(1);
      }
    }
  });

  it('refusals write nothing: a bad instance, a duplicate namespace, a service with instances', async () => {
    const { store, catalog, nsId } = await withNamespace();
    const svc = await catalog.createService(dnsService(nsId, 'web'));
    const before = await store.revision();
    await expect(catalog.registerInstance(svc.id, 'i-1', { AWS_INSTANCE_PORT: '80' })).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('AWS_INSTANCE_IPV4') });
    await expect(catalog.createNamespace({ name: 'a.local', type: 'DNS_PUBLIC', tags: [] })).rejects.toMatchObject({ type: 'NamespaceAlreadyExists' });
    await expect(catalog.createService(dnsService(nsId, 'WEB'))).rejects.toMatchObject({ type: 'ServiceAlreadyExists' });
    expect(await store.revision()).toBe(before);
    await catalog.registerInstance(svc.id, 'i-1', { AWS_INSTANCE_IPV4: '10.0.0.1' });
    const withInstance = await store.revision();
    await expect(catalog.deleteService(svc.id)).rejects.toMatchObject({ type: 'ResourceInUse' });
    await expect(catalog.deleteNamespace(nsId)).rejects.toMatchObject({ type: 'ResourceInUse' });
    expect(await store.revision()).toBe(withInstance);
  });

  it('a create retried with its CreatorRequestId answers the first operation', async () => {
    const store = new MemoryStore();
    const catalog = new CloudMapCatalog({ store, scope, now: () => 1 });
    const first = await catalog.createNamespace({ name: 'b.local', type: 'DNS_PRIVATE', creatorRequestId: 'r1', tags: [] });
    expect(await catalog.createNamespace({ name: 'b.local', type: 'DNS_PRIVATE', creatorRequestId: 'r1', tags: [] })).toBe(first);
    await expect(catalog.createNamespace({ name: 'b.local', type: 'DNS_PRIVATE', creatorRequestId: 'r2', tags: [] })).rejects.toMatchObject({ type: 'NamespaceAlreadyExists' });
    await catalog.runOperation(first);
    expect(await catalog.createNamespace({ name: 'b.local', type: 'DNS_PRIVATE', creatorRequestId: 'r1', tags: [] })).toBe(first);
    expect((await store.range(cloudMapKeys.namespaces())).entries).toHaveLength(1);
  });
});
