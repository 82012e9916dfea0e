import { useState } from 'preact/hooks';
import { describeError } from './api.js';

export type Outcome = { readonly ok: boolean; readonly text: string } | undefined;

/**
 * A button's API call: busy while it runs (the button disabled), then its outcome — the text the caller gives on
 * success (or none), else the API's error as it came (`AccessDeniedException: …`).
 */
export function useAction(): { busy: boolean; outcome: Outcome; run: (call: () => Promise<string | undefined>, after?: () => void) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const run = async (call: () => Promise<string | undefined>, after?: () => void) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const done = await call();
      setOutcome(done === undefined ? undefined : { ok: true, text: done });
      after?.();
    } catch (error) {
      const { name, message } = describeError(error);
      setOutcome({ ok: false, text: `${name}: ${message}` });
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, run };
}

/** An action's outcome where it happened: a status when it went through, an alert when it was refused. */
export function OutcomeNote({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  return (
    <p class={outcome.ok ? 'notice' : 'error-note'} role={outcome.ok ? 'status' : 'alert'}>
      {outcome.text}
    </p>
  );
}
