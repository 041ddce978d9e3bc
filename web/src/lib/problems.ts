// Problems found for you (doc/problems.md): the pure part of the run page's Problems panel and
// the runs list's top-problem cell.
import type { Problem } from '../api/types';

const KIND_LABELS: Record<string, string> = {
  killed: 'Killed',
  segfault: 'Segfault',
  cuda_oom: 'CUDA OOM',
  nccl_timeout: 'NCCL timeout',
  nccl_error: 'NCCL error',
  disk_full: 'Disk full',
  signal: 'Signal',
  assertion: 'Assertion',
  traceback: 'Traceback',
  nan_loss: 'NaN loss',
  stalled: 'Stalled',
  custom: 'Rule',
};

/** A short label for a problem's kind ("CUDA OOM"); a project rule shows its name. */
export function kindLabel(p: Pick<Problem, 'kind' | 'rule'>): string {
  if (p.kind === 'custom') return p.rule;
  return KIND_LABELS[p.kind] ?? p.kind;
}

/** "× 8 ranks" for an event on several writers; "" for one. */
export function ranksSuffix(p: Pick<Problem, 'writer_count'>): string {
  return p.writer_count > 1 ? `× ${p.writer_count} ranks` : '';
}

/** "3×" when the problem recurred; "" once. */
export function occurrencesSuffix(p: Pick<Problem, 'occurrences' | 'writer_count'>): string {
  return p.occurrences > p.writer_count ? `${p.occurrences}×` : '';
}

/** The events in line order (the server sends them so; kept stable for equal lines). */
export function sortProblems(list: readonly Problem[]): Problem[] {
  return [...list].sort((a, b) => a.first_line - b.first_line);
}

/** The panel's head: how many problems and where the first one is (null when none). */
export function problemsHeadline(list: readonly Problem[]): { count: number; firstLine: number | null } {
  if (!list.length) return { count: 0, firstLine: null };
  return { count: list.length, firstLine: Math.min(...list.map((p) => p.first_line)) };
}

/** The lines of a problem's folded part (innermost frame, chained cause, the matching line). */
export function detailLines(p: Pick<Problem, 'detail'>): string[] {
  return (p.detail ?? '').split('\n').filter((l) => l.trim() !== '');
}

/** Severity class for colouring, by level. */
export function problemTone(p: Pick<Problem, 'level'>): 'crit' | 'err' | 'warn' | 'info' {
  switch (p.level) {
    case 'CRITICAL':
      return 'crit';
    case 'ERROR':
      return 'err';
    case 'WARNING':
      return 'warn';
    default:
      return 'info';
  }
}

/** The runs list's cell: "CUDA OOM × 8 ranks" with the title as a tooltip. */
export function topProblemText(p: Problem | null | undefined): { text: string; title: string } | null {
  if (!p) return null;
  const ranks = ranksSuffix(p);
  return { text: ranks ? `${kindLabel(p)} ${ranks}` : kindLabel(p), title: p.title };
}

/** Whether the panel's list needs refreshing: the run's stored lines moved past what it saw. */
export function problemsStale(seenTotal: number | null, total: number): boolean {
  return seenTotal === null || seenTotal !== total;
}
