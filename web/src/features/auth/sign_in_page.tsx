// The sign-in page: shown in place of any page while auth is on and there is no session, at the
// same URL, so the app continues where the user was going once the key is accepted. The key
// stays in this component's state until it is sent in the body of POST /auth/session; the field
// has no name, so even a form submitted without scripts would carry nothing.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client';
import { useAuth } from '../../components/auth';
import { keyInputError, signedOutNote, signInErrorMessage, type SignedOutReason } from '../../lib/auth';

export function SignInPage({ reason }: { reason: SignedOutReason }) {
  const auth = useAuth();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const note = signedOutNote(reason);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const bad = keyInputError(key);
    if (bad) {
      setError(bad);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await auth.signIn(key.trim());
    } catch (err) {
      const failure =
        err instanceof ApiError
          ? { status: err.status, message: err.message, retryAfterS: err.retryAfterS }
          : { status: 0, message: (err as Error).message, retryAfterS: null };
      setError(signInErrorMessage(failure));
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <form className="sign-in" method="post" onSubmit={submit} data-testid="sign-in" noValidate>
        <h1>Sign in</h1>
        <p className="sub">
          This server needs an API key. An admin makes one with <code>wanllmdb keys create --scopes read</code>.
        </p>
        {note && (
          <p className="note" data-testid="sign-in-note">
            {note}
          </p>
        )}
        <label htmlFor="sign-in-key">API key</label>
        <input
          id="sign-in-key"
          className={`text${error ? ' bad' : ''}`}
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          placeholder="wlk_…"
          value={key}
          data-testid="sign-in-key"
          onChange={(e) => setKey(e.target.value)}
        />
        {error && (
          <p className="error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <button className="btn primary" type="submit" disabled={busy} data-testid="sign-in-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
