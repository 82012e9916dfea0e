import { startRuntimeFixture } from '../../testing/runtime-fixture.js';
import { runtimeConformance } from '../runtime.conformance.js';

// Real containers: root, runc and conmon are needed (the fixture fails loudly without them).
runtimeConformance('runc', async () => {
  const f = await startRuntimeFixture();
  return {
    runtime: f.runtime,
    id: (name) => f.id(name),
    spec: (id, args) => f.spec(id, args),
    overlayRoot: (id) => f.overlayRoot(id),
    reopen: () => f.reopen(),
    cleanup: () => f.cleanup(),
  };
});
