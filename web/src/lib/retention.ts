// What a retention policy means, in words (the project page) and what a removed range says (the
// viewer). Pure: components only render these.
import type { RemovedLines, Retention, RetentionLimits } from '../api/types';
import { formatCount, formatDateTime } from './line_format';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1).replace(/\.0$/, '')} ${units[u]}`;
}

function formatDays(d: number): string {
  if (d >= 1) return `${Number.isInteger(d) ? d : d.toFixed(1)} day${d === 1 ? '' : 's'}`;
  const h = d * 24;
  if (h >= 1) return `${Number.isInteger(h) ? h : h.toFixed(1)} hour${h === 1 ? '' : 's'}`;
  return `${Math.max(1, Math.round(h * 3600))} s`;
}

export interface RetentionRule {
  key: keyof RetentionLimits;
  text: string;
  /** Set by the project itself, or inherited from the server default. */
  from: 'project' | 'default';
}

/** The limits that apply, one sentence each; empty when everything is kept. */
export function describeRetention(r: Retention): RetentionRule[] {
  const e = r.effective;
  const from = (k: keyof RetentionLimits): 'project' | 'default' => (k in r.policy ? 'project' : 'default');
  const out: RetentionRule[] = [];
  if (e.max_age_days) {
    const what = e.max_age_action === 'delete_run' ? 'Runs' : 'Logs of runs';
    out.push({ key: 'max_age_days', text: `${what} finished more than ${formatDays(e.max_age_days)} ago are deleted`, from: from('max_age_days') });
  }
  if (e.max_lines_per_run)
    out.push({ key: 'max_lines_per_run', text: `Each run keeps its newest ${formatCount(e.max_lines_per_run)} lines`, from: from('max_lines_per_run') });
  if (e.max_bytes_per_run)
    out.push({ key: 'max_bytes_per_run', text: `Each run keeps its newest ${formatBytes(e.max_bytes_per_run)} of logs`, from: from('max_bytes_per_run') });
  if (e.max_bytes_per_project)
    out.push({
      key: 'max_bytes_per_project',
      text: `The project keeps ${formatBytes(e.max_bytes_per_project)} of logs; the oldest finished runs go first`,
      from: from('max_bytes_per_project'),
    });
  return out;
}

/** "Lines 1–1,000,000 were removed by retention on DATE." */
export function removedNotice(r: RemovedLines | null | undefined, formatDate: (ts: string | null) => string = formatDateTime): string | null {
  if (!r || r.to_line < 1) return null;
  const range = r.from_line === r.to_line ? `Line ${formatCount(r.from_line)} was` : `Lines ${formatCount(r.from_line)}–${formatCount(r.to_line)} were`;
  return `${range} removed by retention${r.at ? ` on ${formatDate(r.at)}` : ''}.`;
}
