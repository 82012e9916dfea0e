import { startRuntimeFixture } from '../../testing/runtime-fixture.js';
import { runtimeConformance } from '../runtime.conformance.js';
import { openRunscRuntime } from './runsc-runtime.js';

// Real gVisor sandboxes: root, runsc and conmon are needed (the fixture fails loudly without them).
runtimeConformance('runsc', async () => {
  const f = await startRuntimeFixture({}, openRunscRuntime);
  return {
    runtime: f.runtime,
    id: (name) => f.id(name),
    spec: (id, args) => f.spec(id, args),
    overlayRoot: (id) => f.overlayRoot(id),
    reopen: () => f.reopen(),
    cleanup: () => f.cleanup(),
  };
});
