/**
 * Cloud Map's asynchronous namespace operations, as a state machine in the store (replica-safe: every step is
 * one compare-and-swap transaction on the operation's record, so whoever takes a step first takes it once).
 *
 *   Create/Update/DeleteXNamespace ── the request's transaction ──▶ SUBMITTED  (+ cloudmap/pending-operations/<id>;
 *        a create reserves its names, a delete marks the namespace `deleting`)
 *   SUBMITTED ── the leader's worker (operation-worker.ts) ──▶ PENDING
 *   SUBMITTED | PENDING ── runOperation: the work and the outcome in one transaction ──▶ SUCCESS | FAIL
 *        (the pending index entry and the record's `work` go; a create's namespace appears only now)
 *   SUCCESS | FAIL, updated longer than the retention ago ── pruneOperations (the leader, periodically) ──▶ gone
 *
 * Instance (de)registrations and UpdateService stay synchronous (their work is done in the request's own
 * transaction and their record written as SUCCESS): instances appear at once, which the DNS figures rely on.
 */
import { cloudMapKeys as k } from '../state/cloudmap-keys.js';
import { parseNamespaceRecord, parseOperationRecord, type NamespaceRecord, type NamespaceWork, type OperationRecord, type OperationType } from '../state/records/cloudmap.js';
import { rangePages } from '../store/range-pages.js';
import type { Store } from '../store/store.js';
import { transact, type Tx } from '../store/transact.js';

/**
 * How long a finished operation stays readable. Cloud Map's API reference documents no retention for
 * GetOperation/ListOperations; berth keeps them 30 days after their last status change.
 */
export const OPERATION_RETENTION_MS = 30 * 24 * 60 * 60_000;

export const namespaceKind = (type: NamespaceRecord['type']) => (type === 'HTTP' ? 'http' : 'dns');

/** A namespace operation, SUBMITTED, with the work it has left; its id. */
export function submitOperation(tx: Tx, now: number, id: string, type: OperationType, targets: OperationRecord['targets'], work: NamespaceWork): string {
  tx.putJson(k.operation(id), { id, type, status: 'SUBMITTED', targets, createDate: now, updateDate: now, work } satisfies OperationRecord);
  tx.putJson(k.pendingOperation(id), { id });
  return id;
}

/** The ids of the operations not finished yet. */
export async function pendingOperationIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of rangePages(store, k.pendingOperations(), 500)) for (const e of page) ids.push(e.key.slice(k.pendingOperations().length));
  return ids;
}

/** SUBMITTED → PENDING (the worker took it); false when it is no longer SUBMITTED. */
export async function markPending(store: Store, now: () => number, id: string): Promise<boolean> {
  return transact(store, async (tx) => {
    const op = await tx.getRecord(parseOperationRecord, k.operation(id));
    if (op?.status !== 'SUBMITTED') return false;
    tx.putJson(k.operation(id), { ...op, status: 'PENDING', updateDate: now() } satisfies OperationRecord);
    return true;
  });
}

/** Finish operation `id` (its work and its outcome in one transaction); the operation as it ends, if any. */
export async function runOperation(store: Store, now: () => number, id: string): Promise<OperationRecord | undefined> {
  return transact(store, async (tx) => {
    const op = await tx.getRecord(parseOperationRecord, k.operation(id));
    if (!op || op.status === 'SUCCESS' || op.status === 'FAIL') {
      tx.delete(k.pendingOperation(id));
      return op;
    }
    const failure = op.work ? await perform(tx, now(), op.work, op.targets.NAMESPACE!) : undefined;
    const { work: _done, ...rest } = op;
    const ended: OperationRecord = { ...rest, status: failure ? 'FAIL' : 'SUCCESS', updateDate: now(), ...(failure ? { errorCode: 'INTERNAL_FAILURE', errorMessage: failure } : {}) };
    tx.putJson(k.operation(id), ended);
    tx.delete(k.pendingOperation(id));
    return ended;
  });
}

/** The operation's change to the namespace; a reason when it cannot be made (the operation FAILs). */
async function perform(tx: Tx, now: number, work: NamespaceWork, namespaceId: string): Promise<string | undefined> {
  if (work.kind === 'create') {
    tx.putJson(k.namespace(namespaceId), { ...work.namespace, createDate: now } satisfies NamespaceRecord);
    return undefined;
  }
  const ns = await tx.getRecord(parseNamespaceRecord, k.namespace(namespaceId));
  if (work.kind === 'update') {
    if (!ns) return `Namespace ${namespaceId} was deleted before the update ran.`;
    tx.putJson(k.namespace(ns.id), {
      ...ns,
      ...(work.description !== undefined ? { description: work.description } : {}),
      ...(work.soaTtl !== undefined && ns.type !== 'HTTP' ? { soaTtl: work.soaTtl } : {}),
    } satisfies NamespaceRecord);
    return undefined;
  }
  if (!ns) return undefined;
  // CreateService refuses a namespace being deleted, so its services were all gone when the delete was submitted.
  if (ns.serviceCount > 0) {
    const { deleting: _d, ...kept } = ns;
    tx.putJson(k.namespace(ns.id), kept satisfies NamespaceRecord);
    return `Namespace ${ns.id} has ${ns.serviceCount} associated service(s).`;
  }
  tx.delete(k.namespace(ns.id));
  tx.delete(k.namespaceName(ns.httpName));
  tx.delete(k.namespaceKind(namespaceKind(ns.type), ns.name));
  return undefined;
}

/** Forget finished operations whose last change is older than `retentionMs`; how many. */
export async function pruneOperations(store: Store, now: () => number, retentionMs = OPERATION_RETENTION_MS): Promise<number> {
  let removed = 0;
  for await (const page of rangePages(store, k.operations(), 500)) {
    for (const e of page) {
      const op = parseOperationRecord(e.value, e.key);
      if ((op.status !== 'SUCCESS' && op.status !== 'FAIL') || now() - op.updateDate < retentionMs) continue;
      // Only if unchanged since read (a compare on its revision).
      const done = await store.txn([{ key: e.key, modRevision: e.modRevision }], [{ type: 'delete', key: e.key }]);
      if (done.succeeded) removed++;
    }
  }
  return removed;
}
