import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * Live updates by polling: the page's loader runs at once, then again `intervalMs` after each answer (never two at a
 * time, so a slow server is not piled on), paused while the tab is hidden and re-run when it shows again. berth's
 * APIs have no push channel a browser can use, and a few Describe calls every few seconds cost the server little.
 * Pages are keyed by their path, so a new page starts with no data.
 */
export const POLL_MS = 3_000;

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  /** When the last answer (data or error) came. */
  readonly updatedAt: number | undefined;
  /** Load again now (after an action, say). */
  readonly refresh: () => void;
}

export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], intervalMs = POLL_MS): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; updatedAt: number | undefined }>({ data: undefined, error: undefined, updatedAt: undefined });
  const [kick, setKick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    const run = async () => {
      if (!live || inFlight) return;
      if (document.hidden) return;
      inFlight = true;
      try {
        const data = await loadRef.current();
        if (live) setState({ data, error: undefined, updatedAt: Date.now() });
      } catch (error) {
        if (live) setState((s) => ({ data: s.data, error, updatedAt: Date.now() }));
      } finally {
        inFlight = false;
        if (live) timer = setTimeout(() => void run(), intervalMs);
      }
    };
    const onVisible = () => {
      if (document.hidden) return;
      clearTimeout(timer);
      void run();
    };
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [...deps, kick, intervalMs]);

  const refresh = useCallback(() => setKick((n) => n + 1), []);
  return { ...state, refresh };
}
