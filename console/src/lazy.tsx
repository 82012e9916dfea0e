import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A component whose module loads on first render: pages (main.tsx) and the service page's panels that bring their
 * own SDK client (load balancer targets, auto scaling, charts), so the JavaScript a visit starts with stays small.
 */
export function Lazy<P extends object>({ load, props, what }: { load: () => Promise<{ default: ComponentType<P> }>; props: P; what: string }) {
  const [Loaded, setLoaded] = useState<ComponentType<P> | undefined>(undefined);
  const [failed, setFailed] = useState<unknown>(undefined);
  useEffect(() => {
    let live = true;
    load().then(
      (m) => live && setLoaded(() => m.default),
      (e: unknown) => live && setFailed(e),
    );
    return () => void (live = false);
  }, [load]);
  if (failed) return <p role="alert">{`${what} could not be loaded (${String(failed)}). Reload to try again.`}</p>;
  return Loaded ? <Loaded {...props} /> : <p class="muted">Loading…</p>;
}
