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

/** A time-ordered view (sort=time) as the viewer shows it: the base filters (without the search)
 * and the view's last line, so positions are the ones on screen. */
export interface TimeView {
  base: ServerFilters;
  upToLine: number;
}

/** (timestamp, line) — the display order of a time-ordered view. Timestamps are fixed-width ISO
 * 8601 with microseconds, so they compare as strings. */
function after(a: { timestamp: string; line_number: number }, b: { timestamp: string; line_number: number }): boolean {
  return a.timestamp !== b.timestamp ? a.timestamp > b.timestamp : a.line_number > b.line_number;
}

/** findMatch for a time-ordered view: the match after (dir 1) or before (dir -1) line `from` in
 * display order ((timestamp, line)), not in line order. Matches are a subsequence of the view in
 * the same order, so a match's neighbour is the next offset; from a line that is not a match, the
 * first match after it is found by bisecting the matches' offsets on (timestamp, line). */
export async function findMatchInTime(
  api: NavApi,
  runId: string,
  filters: ServerFilters,
  view: TimeView,
  from: number,
  dir: 1 | -1,
): Promise<MatchHit | null> {
  const v = { sort: 'time' as const, upToLine: view.upToLine };
  const at = async (f: ServerFilters, offset: number) =>
    (await api.listLogs(runId, f, { ...v, offset, limit: 1 })).logs[0];
  const total = (await api.locate(runId, filters, view.upToLine + 1, undefined, v)).total;
  if (!total) return null;
  let target: number;
  if (from <= 0) {
    target = dir > 0 ? 0 : total - 1;
  } else {
    const loc = await api.locate(runId, filters, from, undefined, v);
    const probe = loc.index < total ? await at(filters, loc.index) : undefined;
    if (probe?.line_number === from) {
      target = loc.index + dir;
    } else {
      const anchor = await at(view.base, (await api.locate(runId, view.base, from, undefined, v)).index);
      // first match offset in display order after the anchor line
      let lo = 0;
      let hi = total;
      while (anchor && lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = await at(filters, mid);
        if (m && after(m, anchor)) hi = mid;
        else lo = mid + 1;
      }
      target = dir > 0 ? lo : lo - 1;
    }
  }
  const wrapped = target < 0 || target >= total;
  if (target < 0) target = total - 1;
  if (target >= total) target = 0;
  const hit = await at(filters, target);
  return hit ? { line: hit.line_number, ordinal: target + 1, total, wrapped } : null;
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
