import { describe, expect, it } from 'vitest';
import type { WhoAmI } from '../api/types';
import { allows, canSignOut, mayClearLogs, mayDeleteRun, needsSignIn } from './permissions';

const me = (over: Partial<WhoAmI>): WhoAmI => ({
  auth_required: true,
  signed_in: true,
  anonymous: false,
  via: 'cookie',
  name: '',
  scopes: [],
  projects: [],
  ...over,
});
// What an open server (no keys) answers.
const anonymous = me({ auth_required: false, anonymous: true, via: 'anonymous', scopes: ['ingest', 'read', 'admin'] });

describe('permissions', () => {
  it('an anonymous server allows everything, as before auth existed', () => {
    expect(mayDeleteRun(anonymous, 'p')).toBe(true);
    expect(mayClearLogs(anonymous, null)).toBe(true);
    expect(needsSignIn(anonymous)).toBe(false);
    expect(canSignOut(anonymous)).toBe(false);
  });

  it('a read-only key hides the admin actions', () => {
    const read = me({ scopes: ['read'] });
    expect(allows(read, 'read')).toBe(true);
    expect(mayDeleteRun(read, 'p')).toBe(false);
    expect(mayClearLogs(read, 'p')).toBe(false);
    expect(allows(me({ scopes: ['ingest', 'read'] }), 'admin', 'p')).toBe(false);
  });

  it('admin includes the other scopes', () => {
    const admin = me({ scopes: ['admin'] });
    expect(allows(admin, 'read')).toBe(true);
    expect(allows(admin, 'ingest')).toBe(true);
    expect(mayDeleteRun(admin, 'p')).toBe(true);
  });

  it('a key limited to projects acts only in those (and not when the project is unknown)', () => {
    const limited = me({ scopes: ['admin'], projects: ['a'] });
    expect(mayDeleteRun(limited, 'a')).toBe(true);
    expect(mayDeleteRun(limited, 'b')).toBe(false);
    expect(mayClearLogs(limited, null)).toBe(false);
  });

  it('nobody signed in may do nothing, and must sign in when auth is on', () => {
    const none = me({ signed_in: false, via: 'none' });
    expect(allows(none, 'read')).toBe(false);
    expect(allows(null, 'read')).toBe(false);
    expect(needsSignIn(none)).toBe(true);
    expect(canSignOut(none)).toBe(false);
  });

  it('sign-out is offered only for a browser session', () => {
    expect(canSignOut(me({ scopes: ['read'] }))).toBe(true);
    expect(canSignOut(me({ scopes: ['read'], via: 'key' }))).toBe(false);
  });
});
