// Project-wide search (GET /projects/{name}/search): the NDJSON records the server streams, how
// the text arriving in pieces becomes records, and where a match opens in the viewer. Pure.
import type { LogLine, Run } from '../api/types';
import { paths } from './router';
import { DEFAULT_VIEW, lineHash, viewStateQuery } from './view_state';

export interface SearchRunRecord {
  type: 'run';
  run: Run;
  matches: number;
  lines: LogLine[];
}

export interface SearchEndRecord {
  type: 'end';
  runs_scanned: number;
  runs_matched: number;
  next_cursor: string | null;
}

/** Runs scanned so far, while runs without matches go by (the stream is not silent). */
export interface SearchProgressRecord {
  type: 'progress';
  runs_scanned: number;
}

export type SearchRecord = SearchRunRecord | SearchProgressRecord | SearchEndRecord;

/** Splits text that arrives in pieces into complete lines (NDJSON); keeps the unfinished tail. */
export class LineSplitter {
  private tail = '';

  /** The lines completed by `piece`, without their '\n'; empty lines are dropped. */
  push(piece: string): string[] {
    const text = this.tail + piece;
    const parts = text.split('\n');
    this.tail = parts.pop() ?? '';
    return parts.filter((p) => p.length > 0);
  }

  /** Whatever came after the last '\n' (non-empty means the stream was cut mid-record). */
  rest(): string {
    return this.tail;
  }
}

/** One record, or null for a line that is not one (a newer server's record type is skipped). */
export function parseSearchRecord(line: string): SearchRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (r.type === 'run' && typeof r.run === 'object' && r.run !== null && typeof r.matches === 'number' && Array.isArray(r.lines)) {
    return r as unknown as SearchRunRecord;
  }
  if (r.type === 'progress' && typeof r.runs_scanned === 'number') return { type: 'progress', runs_scanned: r.runs_scanned };
  if (r.type === 'end' && typeof r.runs_scanned === 'number' && typeof r.runs_matched === 'number') {
    return { type: 'end', runs_scanned: r.runs_scanned, runs_matched: r.runs_matched, next_cursor: typeof r.next_cursor === 'string' ? r.next_cursor : null };
  }
  return null;
}

/** The viewer of `runId` with the project search applied, at `line` (or at the top). */
export function matchViewerUrl(runId: string, search: string, regex: boolean, line: number | null): string {
  return paths.run(runId) + viewStateQuery({ ...DEFAULT_VIEW, search, regex }) + lineHash(line);
}

/** "12 matches", "1 match". */
export function matchCountLabel(n: number): string {
  return `${n.toLocaleString('en-US')} match${n === 1 ? '' : 'es'}`;
}
