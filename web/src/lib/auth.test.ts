import { describe, expect, it } from 'vitest';
import type { WhoAmI } from '../api/types';
import { authFailure, authReducer, keyInputError, OPEN_SERVER, parseRetryAfter, signInErrorMessage, signedOutNote, type AuthState } from './auth';
import { canSignOut, mayDeleteRun } from './permissions';

const signedIn: WhoAmI = { auth_required: true, signed_in: true, anonymous: false, via: 'cookie', name: 'k', scopes: ['read'], projects: [] };
const nobody: WhoAmI = { ...signedIn, signed_in: false, via: 'none', name: '', scopes: [] };
const open: WhoAmI = { ...signedIn, auth_required: false, anonymous: true, via: 'anonymous', scopes: ['ingest', 'read', 'admin'] };

describe('authReducer', () => {
  const checking: AuthState = { phase: 'checking' };

  it('the first whoami decides between the app and the sign-in page', () => {
    expect(authReducer(checking, { type: 'whoami', me: open })).toEqual({ phase: 'ready', me: open });
    expect(authReducer(checking, { type: 'whoami', me: signedIn })).toEqual({ phase: 'ready', me: signedIn });
    expect(authReducer(checking, { type: 'whoami', me: nobody })).toEqual({ phase: 'signed_out', reason: 'none' });
  });

  it('a session lost mid-use returns to the sign-in page, saying why', () => {
    const ready = authReducer(checking, { type: 'whoami', me: signedIn });
    expect(authReducer(ready, { type: 'session_lost' })).toEqual({ phase: 'signed_out', reason: 'expired' });
    // a recheck (after a 403) that finds the session gone
    expect(authReducer(ready, { type: 'whoami', me: nobody })).toEqual({ phase: 'signed_out', reason: 'expired' });
    // an open server that got its first key
    expect(authReducer({ phase: 'ready', me: open }, { type: 'session_lost' })).toEqual({ phase: 'signed_out', reason: 'expired' });
  });

  it('late failures do not change a signed-out page', () => {
    const out: AuthState = { phase: 'signed_out', reason: 'signed_out' };
    expect(authReducer(out, { type: 'session_lost' })).toBe(out);
    expect(authReducer(out, { type: 'whoami', me: nobody })).toBe(out);
    expect(authReducer(out, { type: 'whoami', me: signedIn })).toEqual({ phase: 'ready', me: signedIn });
  });

  it('signing out, and an unreachable server only on the first check', () => {
    const ready: AuthState = { phase: 'ready', me: signedIn };
    expect(authReducer(ready, { type: 'signed_out' })).toEqual({ phase: 'signed_out', reason: 'signed_out' });
    expect(authReducer(checking, { type: 'unreachable', message: 'x' })).toEqual({ phase: 'unreachable', message: 'x' });
    expect(authReducer(ready, { type: 'unreachable', message: 'x' })).toBe(ready);
  });
});

describe('authFailure', () => {
  it('401 loses the session, 403 asks whoami, the auth routes report to their caller', () => {
    expect(authFailure(401, '/runs')).toBe('session_lost');
    expect(authFailure(403, '/runs/x')).toBe('recheck');
    expect(authFailure(404, '/runs/x')).toBeNull();
    expect(authFailure(429, '/runs')).toBeNull();
    expect(authFailure(401, '/auth/whoami')).toBeNull();
    expect(authFailure(403, '/auth/session')).toBeNull();
  });
});

describe('sign-in messages', () => {
  it('Retry-After in seconds or as a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('42', now)).toBe(42);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('says what went wrong', () => {
    expect(signInErrorMessage({ status: 403, message: 'invalid', retryAfterS: null })).toMatch(/wrong, revoked or expired/);
    expect(signInErrorMessage({ status: 429, message: '', retryAfterS: 42 })).toBe(
      'Too many failed sign-in attempts from this address. Try again in 42 s.',
    );
    expect(signInErrorMessage({ status: 429, message: '', retryAfterS: 600 })).toMatch(/in 10 min/);
    expect(signInErrorMessage({ status: 429, message: '', retryAfterS: null })).toMatch(/Try again later/);
    expect(signInErrorMessage({ status: 0, message: '', retryAfterS: null })).toMatch(/Cannot reach/);
    expect(signInErrorMessage({ status: 422, message: "sign in with a key from 'wanllmdb keys create'", retryAfterS: null })).toMatch(/keys create/);
    expect(signInErrorMessage({ status: 500, message: 'boom', retryAfterS: null })).toBe('Sign-in failed (HTTP 500): boom');
    expect(keyInputError('  ')).toMatch(/Paste an API key/);
    expect(keyInputError('wlk_x')).toBeNull();
    expect(signedOutNote('expired')).toMatch(/session has ended/);
    expect(signedOutNote('none')).toBeNull();
  });
});

describe('OPEN_SERVER', () => {
  it('a server without whoami shows everything, as before access control', () => {
    expect(authReducer({ phase: 'checking' }, { type: 'whoami', me: OPEN_SERVER })).toEqual({ phase: 'ready', me: OPEN_SERVER });
    expect(mayDeleteRun(OPEN_SERVER, 'p')).toBe(true);
    expect(canSignOut(OPEN_SERVER)).toBe(false);
  });
});
