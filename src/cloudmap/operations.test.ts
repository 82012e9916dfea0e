import { describe, expect, it } from 'vitest';
import { cloudMapKeys } from '../state/cloudmap-keys.js';
import { MemoryStore } from '../store/memory.js';
import { CloudMapCatalog } from './catalog.js';
import { runSubmittedOperations } from './operation-worker.js';
import { markPending, OPERATION_RETENTION_MS, pendingOperationIds, pruneOperations } from './operations.js';

const scope = { region: 'us-east-1', accountId: '123456789012' };

function setup() {
  const store = new MemoryStore();
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  return { store, clock, catalog: new CloudMapCatalog({ store, scope, now: clock.now }) };
}

describe('Cloud Map namespace operations are asynchronous', () => {
  it('SUBMITTED: the namespace is not there yet; PENDING; SUCCESS: it is, with its create date the run', async () => {
    const { store, clock, catalog } = setup();
    const opId = await catalog.createNamespace({ name: 'shop.local', type: 'DNS_PRIVATE', tags: [] });
    const submitted = await catalog.getOperation(opId);
    expect(submitted).toMatchObject({ status: 'SUBMITTED', type: 'CREATE_NAMESPACE', createDate: 1_000_000, updateDate: 1_000_000 });
    const nsId = submitted.targets.NAMESPACE!;
    await expect(catalog.namespace(undefined, nsId)).rejects.toMatchObject({ type: 'NamespaceNotFound' });
    expect(await catalog.namespaceByName('shop.local')).toBeUndefined();
    expect(await pendingOperationIds(store)).toEqual([opId]);

    clock.advance(50);
    expect(await markPending(store, clock.now, opId)).toBe(true);
    expect(await catalog.getOperation(opId)).toMatchObject({ status: 'PENDING', updateDate: 1_000_050 });
    clock.advance(50);
    expect(await runSubmittedOperations(store, clock.now)).toBe(1);
    const done = await catalog.getOperation(opId);
    expect(done).toMatchObject({ status: 'SUCCESS', updateDate: 1_000_100 });
    expect(done.work).toBeUndefined();
    expect(await catalog.namespace(undefined, nsId)).toMatchObject({ name: 'shop.local', createDate: 1_000_100 });
    expect(await pendingOperationIds(store)).toEqual([]);
    // Running it again (another replica, ECS) changes nothing.
    const revision = await store.revision();
    expect((await catalog.runOperation(opId))?.status).toBe('SUCCESS');
    expect(await store.revision()).toBe(revision);
  });

  it('update and delete run later too; a namespace being deleted takes no new service and its name is free once gone', async () => {
    const { store, clock, catalog } = setup();
    const created = await catalog.createNamespace({ name: 'shop.local', type: 'DNS_PRIVATE', tags: [] });
    await runSubmittedOperations(store, clock.now);
    const nsId = (await catalog.getOperation(created)).targets.NAMESPACE!;
    const upd = await catalog.updateNamespace(nsId, 'DNS_PRIVATE', { description: 'shop', soaTtl: 60 });
    expect((await catalog.namespace(undefined, nsId)).soaTtl).toBe(15);
    await runSubmittedOperations(store, clock.now);
    expect(await catalog.getOperation(upd)).toMatchObject({ status: 'SUCCESS', type: 'UPDATE_NAMESPACE' });
    expect(await catalog.namespace(undefined, nsId)).toMatchObject({ description: 'shop', soaTtl: 60 });

    const del = await catalog.deleteNamespace(nsId);
    expect(await catalog.deleteNamespace(nsId)).toBe(del);
    await expect(catalog.createService({ name: 'web', namespaceId: nsId, customHealth: false, type: 'HTTP', tags: [] })).rejects.toMatchObject({ type: 'NamespaceNotFound' });
    await runSubmittedOperations(store, clock.now);
    expect(await catalog.getOperation(del)).toMatchObject({ status: 'SUCCESS', type: 'DELETE_NAMESPACE' });
    await expect(catalog.namespace(undefined, nsId)).rejects.toMatchObject({ type: 'NamespaceNotFound' });
    const again = await catalog.createNamespace({ name: 'shop.local', type: 'DNS_PRIVATE', tags: [] });
    await runSubmittedOperations(store, clock.now);
    expect((await catalog.namespaceByName('shop.local'))?.id).toBe((await catalog.getOperation(again)).targets.NAMESPACE);
  });

  it('an update whose namespace was deleted first FAILs, with the reason', async () => {
    const { store, clock, catalog } = setup();
    await catalog.createNamespace({ name: 'a.local', type: 'DNS_PRIVATE', tags: [] });
    await runSubmittedOperations(store, clock.now);
    const ns = (await catalog.namespaceByName('a.local'))!;
    const upd = await catalog.updateNamespace(ns.id, 'DNS_PRIVATE', { description: 'late' });
    const del = await catalog.deleteNamespace(ns.id);
    await catalog.runOperation(del);
    await catalog.runOperation(upd);
    expect(await catalog.getOperation(upd)).toMatchObject({ status: 'FAIL', errorCode: 'INTERNAL_FAILURE', errorMessage: expect.stringContaining('deleted') });
  });
});

describe('an HTTP and a DNS namespace may share a name, as in Cloud Map', () => {
  it('the second gets a suffixed HttpName; each kind is still one per name; each is found by its HttpName', async () => {
    const { store, clock, catalog } = setup();
    const dnsOp = await catalog.createNamespace({ name: 'apps.local', type: 'DNS_PRIVATE', tags: [] });
    const httpOp = await catalog.createNamespace({ name: 'apps.local', type: 'HTTP', tags: [] });
    await expect(catalog.createNamespace({ name: 'APPS.local', type: 'DNS_PUBLIC', tags: [] })).rejects.toMatchObject({ type: 'NamespaceAlreadyExists' });
    await expect(catalog.createNamespace({ name: 'apps.local', type: 'HTTP', tags: [] })).rejects.toMatchObject({ type: 'NamespaceAlreadyExists' });
    await runSubmittedOperations(store, clock.now);
    const dns = await catalog.namespace(undefined, (await catalog.getOperation(dnsOp)).targets.NAMESPACE!);
    const http = await catalog.namespace(undefined, (await catalog.getOperation(httpOp)).targets.NAMESPACE!);
    expect(dns.httpName).toBe('apps.local');
    expect(http.name).toBe('apps.local');
    expect(http.httpName).toMatch(/^apps\.local-[0-9a-z]{8}$/);
    expect((await catalog.namespaceByName('apps.local'))?.id).toBe(dns.id);
    expect((await catalog.namespaceByName(http.httpName))?.id).toBe(http.id);
    // Deleting the DNS one leaves the HTTP one as it was.
    await catalog.runOperation(await catalog.deleteNamespace(dns.id));
    expect((await catalog.namespaceByName(http.httpName))?.id).toBe(http.id);
    expect(await catalog.namespaceByName('apps.local')).toBeUndefined();
    expect((await store.range(cloudMapKeys.namespaces())).entries).toHaveLength(1);
  });
});

describe('finished operations are forgotten after the retention', () => {
  it('only finished ones whose last change is older than the retention go', async () => {
    const { store, clock, catalog } = setup();
    const oldOp = await catalog.createNamespace({ name: 'old.local', type: 'DNS_PRIVATE', tags: [] });
    await runSubmittedOperations(store, clock.now);
    clock.advance(OPERATION_RETENTION_MS - 1_000);
    const recent = await catalog.createNamespace({ name: 'recent.local', type: 'DNS_PRIVATE', tags: [] });
    await runSubmittedOperations(store, clock.now);
    const waiting = await catalog.createNamespace({ name: 'waiting.local', type: 'DNS_PRIVATE', tags: [] });
    expect(await pruneOperations(store, clock.now)).toBe(0);
    clock.advance(1_000);
    expect(await pruneOperations(store, clock.now)).toBe(1);
    await expect(catalog.getOperation(oldOp)).rejects.toMatchObject({ type: 'OperationNotFound' });
    expect((await catalog.getOperation(recent)).status).toBe('SUCCESS');
    clock.advance(OPERATION_RETENTION_MS * 2);
    // Never one not finished.
    expect(await pruneOperations(store, clock.now)).toBe(1);
    expect((await catalog.getOperation(waiting)).status).toBe('SUBMITTED');
  });
});
