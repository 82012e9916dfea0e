import { useState } from 'preact/hooks';
import { saveSession, serverRegion, type Session } from './session.js';

/**
 * Sign-in with an access key pair: berth's root key pair (in the credentials file `berth server` writes) or an IAM
 * user's. The pair is checked by one signed ListClusters call before it is kept (refused only for the key, not for
 * that action: AccessDeniedException still signs in); it stays in this tab's
 * sessionStorage only.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const value = (k: string) => String(form.get(k) ?? '').trim();
    const session: Session = {
      accessKeyId: value('accessKeyId'),
      secretAccessKey: value('secretAccessKey'),
      region: value('region') || serverRegion(),
      ...(value('sessionToken') ? { sessionToken: value('sessionToken') } : {}),
    };
    setBusy(true);
    setError(undefined);
    try {
      // The SDK is loaded with the first signed call, not with the sign-in form.
      const [{ ecsClient }, { ListClustersCommand }] = await Promise.all([import('./api.js'), import('@aws-sdk/client-ecs')]);
      // AccessDeniedException means the signature was accepted and only ListClusters is not allowed: signed in.
      await ecsClient(session)
        .send(new ListClustersCommand({ maxResults: 1 }))
        .catch((err: unknown) => {
          if (!(err instanceof Error && err.name === 'AccessDeniedException')) throw err;
        });
      saveSession(session);
      onSignedIn(session);
    } catch (err) {
      const { name, message } = err instanceof Error ? err : { name: 'Error', message: String(err) };
      setError(`${name}: ${message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Sign in to berth</h1>
      <p class="muted">
        Use an access key pair: the root pair is in the credentials file <code>berth server</code> writes (its data directory's <code>credentials</code>), or an IAM user's
        keys. Every request this console makes is signed with it (SigV4), so you see and do what the key's policies allow.
      </p>
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'sign-in-error' : undefined}>
        <label>
          Access key ID
          <input name="accessKeyId" autoComplete="username" required spellcheck={false} />
        </label>
        <label>
          Secret access key
          <input name="secretAccessKey" type="password" autoComplete="current-password" required />
        </label>
        <label>
          Session token <span class="muted">(temporary credentials only)</span>
          <input name="sessionToken" type="password" autoComplete="off" />
        </label>
        <label>
          Region
          <input name="region" defaultValue={serverRegion()} required spellcheck={false} />
        </label>
        {error ? (
          <p id="sign-in-error" class="error-note" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
