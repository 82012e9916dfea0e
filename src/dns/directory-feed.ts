/**
 * Keeps a {@link Directory} current from the Store: three informers (namespaces, services, instances) whose
 * watch events land in the directory as they arrive, so a registration is answered as soon as this replica's
 * watch delivers it (well within Cloud Map's "within 1 s").
 */
import { cloudMapKeys } from '../state/cloudmap-keys.js';
import { parseInstanceRecord, parseNamespaceRecord, parseServiceRecord } from '../state/records/cloudmap.js';
import { Informer, type InformerFailure } from '../store/informer.js';
import type { Store } from '../store/store.js';
import { Directory } from './directory.js';

export class DirectoryFeed {
  readonly directory = new Directory();
  private readonly namespaces: Informer<ReturnType<typeof parseNamespaceRecord>>;
  private readonly services: Informer<ReturnType<typeof parseServiceRecord>>;
  private readonly instances: Informer<ReturnType<typeof parseInstanceRecord>>;

  constructor(options: { store: Store; onError?: (error: unknown, failure: InformerFailure) => void }) {
    const common = { store: options.store, ...(options.onError ? { onError: options.onError } : {}) };
    const d = this.directory;
    this.namespaces = new Informer({ ...common, prefix: cloudMapKeys.namespaces(), parse: parseNamespaceRecord });
    this.namespaces.subscribe({ added: (_k, v) => d.putNamespace(v), updated: (_k, _o, v) => d.putNamespace(v), deleted: (_k, o) => d.deleteNamespace(o.id) });
    this.services = new Informer({ ...common, prefix: cloudMapKeys.services(), parse: parseServiceRecord });
    this.services.subscribe({ added: (_k, v) => d.putService(v), updated: (_k, _o, v) => d.putService(v), deleted: (_k, o) => d.deleteService(o.id) });
    this.instances = new Informer({ ...common, prefix: cloudMapKeys.instances(), parse: parseInstanceRecord });
    this.instances.subscribe({ added: (_k, v) => d.putInstance(v), updated: (_k, _o, v) => d.putInstance(v), deleted: (_k, o) => d.deleteInstance(o.serviceId, o.id) });
  }

  start(): this {
    this.namespaces.start();
    this.services.start();
    this.instances.start();
    return this;
  }

  /** After every informer's first complete list. */
  async ready(): Promise<void> {
    await Promise.all([this.namespaces.ready(), this.services.ready(), this.instances.ready()]);
  }

  stop(): void {
    this.namespaces.stop();
    this.services.stop();
    this.instances.stop();
  }
}
