import type { ComponentChildren } from 'preact';
import { describeError, isCredentialError } from './api.js';
import { percent } from './format.js';
import { useSession } from './session.js';

/** Reserved out of registered as a bar, with the figures in words beside it (and for screen readers). */
export function Bar({ label, used, total, unit }: { label: string; used: number; total: number; unit: string }) {
  const p = percent(used, total);
  const text = `${label}: ${used} of ${total} ${unit} reserved (${p}%)`;
  return (
    <div class="bar-row">
      <span class="bar-label">{label}</span>
      <span class={`bar${p >= 90 ? ' bar-high' : ''}`} role="img" aria-label={text}>
        <span class="bar-fill" style={{ width: `${p}%` }} />
      </span>
      <span class="bar-figures">
        {used} / {total} {unit}
      </span>
    </div>
  );
}

/** A rollout's progress: running of desired, pending shown apart. */
export function Progress({ running, pending, desired, label }: { running: number; pending: number; desired: number; label: string }) {
  const max = Math.max(desired, running + pending, 1);
  return (
    <span class="progress" role="img" aria-label={`${label}: ${running} running, ${pending} pending, ${desired} desired`}>
      <span class="progress-running" style={{ width: `${(running / max) * 100}%` }} />
      <span class="progress-pending" style={{ width: `${(pending / max) * 100}%` }} />
    </span>
  );
}

const STATUS_TONE: Record<string, string> = {
  RUNNING: 'good',
  ACTIVE: 'good',
  COMPLETED: 'good',
  HEALTHY: 'good',
  PRIMARY: 'good',
  PENDING: 'busy',
  PROVISIONING: 'busy',
  ACTIVATING: 'busy',
  IN_PROGRESS: 'busy',
  DRAINING: 'busy',
  DEACTIVATING: 'busy',
  STOPPING: 'busy',
  DEPROVISIONING: 'busy',
  STOPPED: 'off',
  INACTIVE: 'off',
  FAILED: 'bad',
  UNHEALTHY: 'bad',
};

export function Status({ value }: { value: string | undefined }) {
  if (!value) return null;
  return <span class={`status status-${STATUS_TONE[value] ?? 'plain'}`}>{value}</span>;
}

/** An API error where the data would be; a refused key pair offers to sign in again. */
export function ErrorNote({ error, what }: { error: unknown; what: string }) {
  const { signOut } = useSession();
  if (!error) return null;
  const { name, message } = describeError(error);
  return (
    <div class="error-note" role="alert">
      <strong>Could not {what}:</strong> {name}: {message}
      {isCredentialError(error) ? (
        <>
          {' '}
          <button type="button" onClick={signOut}>
            Sign in again
          </button>
        </>
      ) : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** A page's heading with the moment of its last update (live updates are polled). */
export function PageTitle({ children, updatedAt, kicker }: { children: ComponentChildren; updatedAt?: number | undefined; kicker?: ComponentChildren }) {
  return (
    <header class="page-title">
      {kicker ? <p class="kicker">{kicker}</p> : null}
      <h1 id="page-heading">{children}</h1>
      {updatedAt ? <p class="updated muted">Updated {new Date(updatedAt).toLocaleTimeString()}</p> : null}
    </header>
  );
}

export function Section({ title, id, children, actions }: { title: string; id: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="section" aria-labelledby={`${id}-h`} id={id}>
      <div class="section-head">
        <h2 id={`${id}-h`}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** A table that scrolls sideways on a phone instead of squeezing its columns. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={`${caption} table`}>
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** One labelled figure of a page's facts (a `<dl class="facts">` holds them). */
export function Fact({ label, children, testId }: { label: string; children: ComponentChildren; testId?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}
