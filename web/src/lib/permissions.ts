// What the signed-in credential may do, from `GET /auth/whoami`. Mirrors the server's rule
// (src/auth/scope.h, principal.h): `admin` includes the other scopes, and a key limited to
// projects acts only in those. The server enforces all of this; the UI only hides what would
// be refused, so a read-only key never sees a Delete button that answers 403.
import type { Scope, WhoAmI } from '../api/types';

/** Whether `me` may do what needs `needed` (in `project`, when the action is in one). */
export function allows(me: WhoAmI | null, needed: Scope, project?: string | null): boolean {
  if (!me || !me.signed_in) return false;
  const held = me.scopes.includes('admin') || me.scopes.includes(needed);
  if (!held) return false;
  if (me.projects.length === 0) return true;
  return project != null && me.projects.includes(project);
}

/** Deleting a run and clearing its logs are `admin` routes. */
export const mayDeleteRun = (me: WhoAmI | null, project: string | null): boolean => allows(me, 'admin', project);
export const mayClearLogs = (me: WhoAmI | null, project: string | null): boolean => allows(me, 'admin', project);

/** The UI must ask for a key: auth is on and this browser has no valid session. */
export const needsSignIn = (me: WhoAmI): boolean => me.auth_required && !me.signed_in;

/** A sign-out control makes sense only for a browser session on a server that needs one. */
export const canSignOut = (me: WhoAmI | null): boolean => !!me && me.auth_required && me.signed_in && me.via === 'cookie';
