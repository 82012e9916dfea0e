import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A small history-API router: every page has a URL under /console/ that can be shared, reloaded or opened in a
 * new tab (the server answers any GET /console/… with the page). Written here instead of a router library because
 * the console needs only path patterns, links and navigation (docs/console.md).
 */
export const BASE = '/console';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener('popstate', notify);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
  window.scrollTo(0, 0);
}

/** The current location, re-rendering the caller whenever it changes. */
export function useLocation(): URL {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return new URL(location.href);
}

/** `/clusters/:cluster` against `/clusters/default` → `{ cluster: 'default' }`; undefined when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(h);
    else if (w !== h) return undefined;
  }
  return params;
}

/** A path under the console with each dynamic segment encoded: `href('clusters', name, 'services', svc)`. */
export function href(...segments: string[]): string {
  return `${BASE}/${segments.map(encodeURIComponent).join('/')}`;
}

/** A task definition's page at its revision: `…:task-definition/web:3` (or `web:3`) → `/console/task-definitions/web?revision=3`. */
export function revisionHref(taskDefinition: string | undefined): string {
  const name = (taskDefinition ?? '').slice((taskDefinition ?? '').lastIndexOf('/') + 1);
  const cut = name.lastIndexOf(':');
  return cut < 0 ? href('task-definitions', name) : `${href('task-definitions', name.slice(0, cut))}?revision=${name.slice(cut + 1)}`;
}

interface LinkProps {
  readonly href: string;
  readonly children?: ComponentChildren;
  readonly class?: string;
  readonly 'aria-current'?: 'page' | undefined;
  readonly 'aria-label'?: string;
}

/** An ordinary link (open in a new tab works) that navigates in place on a plain click. */
export function Link({ href: to, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a {...rest} href={to} onClick={onClick}>
      {children}
    </a>
  );
}
