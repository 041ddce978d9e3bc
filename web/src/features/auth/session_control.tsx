// The top bar's "who am I / sign out", shown only for a browser session on a server with auth.
import { useState } from 'react';
import { useAuth } from '../../components/auth';
import { canSignOut } from '../../lib/permissions';

export function SessionControl() {
  const auth = useAuth();
  const [error, setError] = useState<string | null>(null);
  const me = auth.me;
  if (!canSignOut(me) || !me) return null;
  return (
    <div className="session" data-testid="session">
      <span className="sub" data-testid="session-who" title={me.projects.length ? `projects: ${me.projects.join(', ')}` : undefined}>
        {me.name || 'signed in'} · {me.scopes.join(', ')}
      </span>
      <button
        className="btn small"
        data-testid="sign-out"
        title={error ?? undefined}
        onClick={() => {
          setError(null);
          auth.signOut().catch((e: Error) => setError(`Could not sign out: ${e.message}`));
        }}
      >
        Sign out
      </button>
      {error && (
        <span className="sub" role="alert" style={{ color: 'var(--err)' }}>
          {error}
        </span>
      )}
    </div>
  );
}
