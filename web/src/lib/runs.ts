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
