// "Next/previous match" and "next error": which line to go to, asked of the server (the run may be
// far larger than what the page holds). Pure except for the injected API.
import type { Api } from '../api/client';
import type { Level, ServerFilters } from '../api/types';

export type NavApi = Pick<Api, 'listLogs' | 'locate'>;

export interface MatchHit {
  line: number;
  /** 1-based position among all matches. */
  ordinal: number;
  total: number;
  /** The search ran off the end (or start) and continued from the other side. */
  wrapped: boolean;
}

/** The match after (dir 1) or before (dir -1) line `from`, wrapping around; null if none. */
export async function findMatch(api: NavApi, runId: string, filters: ServerFilters, from: number, dir: 1 | -1): Promise<MatchHit | null> {
  const step = (after: number | null) =>
    dir > 0
      ? api.listLogs(runId, filters, { afterLine: after ?? 0, limit: 1, order: 'asc' })
      : api.listLogs(runId, filters, { beforeLine: after ?? undefined, limit: 1, order: 'desc' });
  let res = await step(dir > 0 ? from : Math.max(1, from));
  let wrapped = false;
  if (!res.logs.length) {
    res = await step(null);
    wrapped = true;
  }
  const hit = res.logs[0];
  if (!hit) return null;
  const loc = await api.locate(runId, filters, hit.line_number);
  return { line: hit.line_number, ordinal: loc.index + 1, total: loc.total, wrapped };
}

/** The filters for "errors" within the current view, or null when the view excludes them. */
export function errorFilters(base: ServerFilters): ServerFilters | null {
  const wanted: Level[] = ['ERROR', 'CRITICAL'];
  const levels = base.levels.length ? base.levels.filter((l) => wanted.includes(l)) : wanted;
  return levels.length ? { ...base, levels } : null;
}

/** The first error after line `from` (0: the first error of the run), or null. */
export async function findError(api: NavApi, runId: string, filters: ServerFilters, from: number): Promise<number | null> {
  const res = await api.listLogs(runId, filters, { afterLine: from, limit: 1, order: 'asc' });
  return res.logs[0]?.line_number ?? null;
}
