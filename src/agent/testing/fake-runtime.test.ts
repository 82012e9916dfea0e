import { randomBytes } from 'node:crypto';
import { runtimeConformance } from '../../runtime/runtime.conformance.js';
import { FakeRuntime } from './fakes.js';

// The fake the engine's unit tests run on must behave as the runc runtime does where the engine can tell.
runtimeConformance('fake', async () => {
  const runtime = new FakeRuntime();
  const tag = randomBytes(4).toString('hex');
  return {
    runtime,
    id: (name) => `t${tag}-${name}`,
    spec: (id, args) => ({ id, rootfs: '/fake/rootfs', resources: {}, logPath: `/fake/${id}.log`, labels: {}, process: { args, env: [], cwd: '/', uid: 0, gid: 0 } }),
    overlayRoot: (id) => ({ rootfs: `/fake/${id}/root`, rootfsOverlay: { lowerdirs: ['/fake/rootfs'], upperdir: `/fake/${id}/upper`, workdir: `/fake/${id}/work` } }),
    reopen: async () => runtime.reopen(),
    cleanup: async () => {},
  };
});
