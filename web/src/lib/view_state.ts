// The log viewer's state that lives in the URL: filters, search, display toggles and the
// permalinked line (#L123). Parsing is forgiving (unknown values are dropped), serialising is
// canonical (defaults are omitted, lists keep the canonical order), so a URL survives a reload and
// two equal states give the same URL.
import { LEVELS, SOURCES, type Level, type ServerFilters, type Source } from '../api/types';

export interface ViewState {
  levels: Level[];
  sources: Source[];
  writers: string[];
  search: string;
  regex: boolean;
  /** Show only the lines that match the search (otherwise matches are highlighted in place). */
  onlyMatches: boolean;
  wrap: boolean;
  fullDate: boolean;
  /** The line of `#L123`, if any. */
  line: number | null;
}

export const DEFAULT_VIEW: Readonly<ViewState> = Object.freeze({
  levels: [],
  sources: [],
  writers: [],
  search: '',
  regex: false,
  onlyMatches: false,
  wrap: false,
  fullDate: false,
  line: null,
});

function list(v: string | null): string[] {
  if (!v) return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function canonical<T extends string>(all: readonly T[], values: string[]): T[] {
  const upper = new Set(values);
  return all.filter((x) => upper.has(x));
}

export function parseLineHash(hash: string): number | null {
  const m = /^#?L(\d+)$/.exec(hash);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

export function parseViewState(search: string, hash: string): ViewState {
  const q = new URLSearchParams(search);
  const flag = (k: string) => q.get(k) === '1' || q.get(k) === 'true';
  return {
    levels: canonical(LEVELS, list(q.get('level')).map((s) => s.toUpperCase())),
    sources: canonical(SOURCES, list(q.get('source')).map((s) => s.toLowerCase())),
    writers: [...new Set(list(q.get('writer')))].sort(),
    search: q.get('q') ?? '',
    regex: flag('regex'),
    onlyMatches: flag('only'),
    wrap: flag('wrap'),
    fullDate: flag('date'),
    line: parseLineHash(hash),
  };
}

/** The query string (with `?`, or '') for a state; the line goes in the hash, see lineHash. */
export function viewStateQuery(s: ViewState): string {
  const q = new URLSearchParams();
  if (s.levels.length) q.set('level', canonical(LEVELS, s.levels).join(','));
  if (s.sources.length) q.set('source', canonical(SOURCES, s.sources).join(','));
  if (s.writers.length) q.set('writer', [...new Set(s.writers)].sort().join(','));
  if (s.search) q.set('q', s.search);
  if (s.regex) q.set('regex', '1');
  if (s.onlyMatches) q.set('only', '1');
  if (s.wrap) q.set('wrap', '1');
  if (s.fullDate) q.set('date', '1');
  const str = q.toString();
  return str ? `?${str}` : '';
}

export function lineHash(line: number | null): string {
  return line === null ? '' : `#L${line}`;
}

/** What the server filters the viewed lines by. Search filters only in "only matches" mode. */
export function viewFilters(s: ViewState): ServerFilters {
  const withSearch = s.onlyMatches && s.search !== '';
  return {
    levels: s.levels,
    sources: s.sources,
    writers: s.writers,
    search: withSearch ? s.search : '',
    regex: withSearch && s.regex,
  };
}

/** The filters that select the search matches (for counting and next/previous). */
export function matchFilters(s: ViewState): ServerFilters {
  return { levels: s.levels, sources: s.sources, writers: s.writers, search: s.search, regex: s.regex };
}

export function isUnfiltered(f: ServerFilters): boolean {
  return !f.levels.length && !f.sources.length && !f.writers.length && !f.search;
}

/** A stable key: two states with the same key show the same lines. */
export function filtersKey(f: ServerFilters): string {
  return JSON.stringify([f.levels, f.sources, f.writers, f.search, f.regex]);
}

export function toggle<T>(values: readonly T[], v: T): T[] {
  return values.includes(v) ? values.filter((x) => x !== v) : [...values, v];
}
