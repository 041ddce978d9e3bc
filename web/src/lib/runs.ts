// Small pure helpers for the run lists.
import type { Run } from '../api/types';
import { formatDuration, parseTimestamp } from './line_format';

export function runDurationMs(run: Pick<Run, 'created_at' | 'finished_at' | 'state'>, now: number): number {
  const start = parseTimestamp(run.created_at).getTime();
  const end = run.finished_at ? parseTimestamp(run.finished_at).getTime() : run.state === 'running' ? now : NaN;
  return end - start;
}

export function runDuration(run: Pick<Run, 'created_at' | 'finished_at' | 'state'>, now: number): string {
  return formatDuration(runDurationMs(run, now));
}

export function runLabel(run: Pick<Run, 'name' | 'id'>): string {
  return run.name || run.id.slice(0, 8);
}

export function anyRunning(runs: ReadonlyArray<Pick<Run, 'state'>>): boolean {
  return runs.some((r) => r.state === 'running');
}

/** A refreshed head of the list (polling) merged with the pages loaded so far: the fresh runs,
 * then the loaded ones after the last fresh run (or past the fresh count when it was not found). */
export function mergeRefreshed<T extends { id: string }>(fresh: readonly T[], loaded: readonly T[]): T[] {
  if (loaded.length <= fresh.length) return [...fresh];
  const last = fresh[fresh.length - 1];
  const at = last ? loaded.findIndex((r) => r.id === last.id) : -1;
  const seen = new Set(fresh.map((r) => r.id));
  const tail = (at >= 0 ? loaded.slice(at + 1) : loaded.slice(fresh.length)).filter((r) => !seen.has(r.id));
  return [...fresh, ...tail];
}
