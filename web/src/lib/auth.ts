// The browser session's state machine and the sign-in page's wording. Pure: components/auth.tsx
// feeds it whoami answers and failed requests. The key itself never passes through here: it goes
// from the sign-in form straight into the body of `POST /auth/session`, and the server answers
// with an HttpOnly cookie (never in a URL, never in storage).
import type { WhoAmI } from '../api/types';
import { needsSignIn } from './permissions';

/** What a server from before access control is: open, every scope (its whoami answers 404). */
export const OPEN_SERVER: WhoAmI = {
  auth_required: false,
  signed_in: true,
  anonymous: true,
  via: 'anonymous',
  name: '',
  scopes: ['ingest', 'read', 'admin'],
  projects: [],
};

export type SignedOutReason = 'none' | 'expired' | 'signed_out';

export type AuthState =
  | { phase: 'checking' }
  | { phase: 'unreachable'; message: string }
  | { phase: 'signed_out'; reason: SignedOutReason }
  | { phase: 'ready'; me: WhoAmI };

export type AuthEvent =
  /** An answer of `GET /auth/whoami` or `POST /auth/session`. */
  | { type: 'whoami'; me: WhoAmI }
  /** The first whoami could not reach the server. */
  | { type: 'unreachable'; message: string }
  /** A request was refused for want of a session (401, or a 403 after which whoami says signed out). */
  | { type: 'session_lost' }
  | { type: 'signed_out' };

export function authReducer(s: AuthState, e: AuthEvent): AuthState {
  switch (e.type) {
    case 'whoami':
      if (!needsSignIn(e.me)) return { phase: 'ready', me: e.me };
      if (s.phase === 'signed_out') return s;
      return { phase: 'signed_out', reason: s.phase === 'ready' ? 'expired' : 'none' };
    case 'unreachable':
      // Only the first check has nothing to show; later, the pages report their own errors.
      return s.phase === 'checking' || s.phase === 'unreachable' ? { phase: 'unreachable', message: e.message } : s;
    case 'session_lost':
      // Also on an open server that has just got its first key: every request now needs one.
      return s.phase === 'ready' ? { phase: 'signed_out', reason: 'expired' } : s;
    case 'signed_out':
      return { phase: 'signed_out', reason: 'signed_out' };
  }
}

/**
 * What a failed API request says about the session: a 401 means none (the cookie is gone or
 * expired in the browser); a 403 may be a session the server no longer knows (expired, signed
 * out elsewhere, its key revoked) or an honest "not with this key", so whoami decides.
 * The auth routes themselves report to their caller instead.
 */
export function authFailure(status: number, path: string): 'session_lost' | 'recheck' | null {
  if (path.startsWith('/auth/')) return null;
  if (status === 401) return 'session_lost';
  if (status === 403) return 'recheck';
  return null;
}

/** `Retry-After` as seconds (either form HTTP allows), or null. */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (!header) return null;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

export interface SignInFailure {
  status: number;
  message: string;
  retryAfterS: number | null;
}

/** The sign-in page's message for a refused `POST /auth/session`. */
export function signInErrorMessage(f: SignInFailure): string {
  if (f.status === 0) return 'Cannot reach the wanLLMDB server. Check that it is running, then try again.';
  if (f.status === 429) {
    const when = f.retryAfterS !== null ? `in ${formatWait(f.retryAfterS)}` : 'later';
    return `Too many failed sign-in attempts from this address. Try again ${when}.`;
  }
  if (f.status === 403) return 'This key is not valid: it is wrong, revoked or expired.';
  if (f.status === 400 || f.status === 422) return f.message;
  return `Sign-in failed (HTTP ${f.status}): ${f.message}`;
}

function formatWait(s: number): string {
  if (s < 90) return `${s} s`;
  return `${Math.ceil(s / 60)} min`;
}

/** Checked before sending: an empty form is not worth a failed attempt on the server. */
export function keyInputError(key: string): string | null {
  return key.trim() ? null : 'Paste an API key (wlk_…) to sign in.';
}

export function signedOutNote(reason: SignedOutReason): string | null {
  if (reason === 'expired') return 'Your session has ended. Sign in again to continue where you were.';
  if (reason === 'signed_out') return 'You have signed out.';
  return null;
}
