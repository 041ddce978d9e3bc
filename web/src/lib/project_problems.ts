// "Which runs hit CUDA OOM this week": the project page's problem finder over
// GET /projects/{name}/problems. Pure parts, tested in project_problems.test.ts.
import type { Problem } from '../api/types';

export interface ProjectProblemRow {
  run: { id: string; name: string; state: string; created_at: string };
  problem: Problem;
}

export const PROBLEM_WINDOWS = [
  { value: '1d', label: 'today (24 h)' },
  { value: '7d', label: 'this week (7 days)' },
  { value: '30d', label: 'this month (30 days)' },
] as const;
export type ProblemWindow = (typeof PROBLEM_WINDOWS)[number]['value'];

export interface RunHit {
  run: ProjectProblemRow['run'];
  /** The run's problems of the asked kind, first line first. */
  problems: Problem[];
  firstLine: number;
}

/** One entry per run (rows come one per event), newest detection first as the server sends. */
export function hitsByRun(rows: readonly ProjectProblemRow[]): RunHit[] {
  const byId = new Map<string, RunHit>();
  for (const r of rows) {
    let hit = byId.get(r.run.id);
    if (!hit) {
      hit = { run: r.run, problems: [], firstLine: r.problem.first_line };
      byId.set(r.run.id, hit);
    }
    hit.problems.push(r.problem);
    hit.firstLine = Math.min(hit.firstLine, r.problem.first_line);
  }
  for (const h of byId.values()) h.problems.sort((a, b) => a.first_line - b.first_line);
  return [...byId.values()];
}

/** "3 runs hit CUDA OOM this week" / "No run hit …". */
export function hitsHeadline(runs: number, kindLabel: string, windowLabel: string): string {
  if (runs === 0) return `No run hit ${kindLabel} ${windowLabel}`;
  return `${runs} run${runs === 1 ? '' : 's'} hit ${kindLabel} ${windowLabel}`;
}
