// The log viewer's state that lives in the URL: filters, search, display toggles and the
// permalinked line (#L123). Parsing is forgiving (unknown values are dropped), serialising is
// canonical (defaults are omitted, lists keep the canonical order), so a URL survives a reload and
// two equal states give the same URL.
import { LEVELS, SOURCES, type Level, type ServerFilters, type Source } from '../api/types';

export interface ViewState {
  levels: Level[];
  sources: Source[];
  writers: string[];
  /** Field filters of structured lines (`loss>1.5`), as the server takes them. */
  fields: string[];
  search: string;
  regex: boolean;
  /** Show only the lines that match the search (otherwise matches are highlighted in place). */
  onlyMatches: boolean;
  wrap: boolean;
  fullDate: boolean;
  /** Case-sensitive search (plain search is case-insensitive otherwise). */
  caseSensitive: boolean;
  /** Match whole words only. */
  wholeWord: boolean;
  /** Lines of context around each match in "only matches" (0 = none). */
  context: number;
  /** Timestamps as wall clock (local time) or as time elapsed since the run's first line. */
  time: 'wall' | 'elapsed';
  /** Multi-line records and runs of identical lines shown as one row (GitHub Actions folds by
   * default; `fold=0` in the URL turns it off). */
  fold: boolean;
  /** Line order (as stored) or interleaved by time: all writers' lines by timestamp. */
  sort: 'line' | 'time';
  /** A time window (ISO 8601, inclusive), e.g. dragged on the histogram. */
  since: string | null;
  until: string | null;
  /** The line of `#L123` (or the first of `#L10-L20`), if any. */
  line: number | null;
  /** The last line of a `#L10-L20` range (null for a single line). */
  lineEnd: number | null;
}

export const DEFAULT_VIEW: Readonly<ViewState> = Object.freeze({
  levels: [],
  sources: [],
  writers: [],
  fields: [],
  search: '',
  regex: false,
  onlyMatches: false,
  wrap: false,
  fullDate: false,
  caseSensitive: false,
  wholeWord: false,
  context: 0,
  time: 'wall',
  fold: true,
  sort: 'line',
  since: null,
  until: null,
  line: null,
  lineEnd: null,
});

/** The most context lines the viewer asks for (the API's own limit is higher). */
export const MAX_CONTEXT = 20;

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
  return parseLineRange(hash)?.first ?? null;
}

export interface LineRange {
  first: number;
  last: number;
}

/** `#L12` or `#L10-L20` (also `#L10-20`); a reversed range is put in order. */
export function parseLineRange(hash: string): LineRange | null {
  const m = /^#?L(\d+)(?:-L?(\d+))?$/.exec(hash);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 1 || b < 1) return null;
  return { first: Math.min(a, b), last: Math.max(a, b) };
}

function isoOrNull(v: string | null): string | null {
  if (!v) return null;
  return Number.isNaN(Date.parse(v)) ? null : v;
}

export function parseViewState(search: string, hash: string): ViewState {
  const q = new URLSearchParams(search);
  const flag = (k: string) => q.get(k) === '1' || q.get(k) === 'true';
  const range = parseLineRange(hash);
  return {
    levels: canonical(LEVELS, list(q.get('level')).map((s) => s.toUpperCase())),
    sources: canonical(SOURCES, list(q.get('source')).map((s) => s.toLowerCase())),
    writers: [...new Set(list(q.get('writer')))].sort(),
    fields: [...new Set(list(q.get('field')))],
    search: q.get('q') ?? '',
    regex: flag('regex'),
    onlyMatches: flag('only'),
    wrap: flag('wrap'),
    fullDate: flag('date'),
    caseSensitive: flag('case'),
    wholeWord: flag('word'),
    context: Math.max(0, Math.min(MAX_CONTEXT, Math.floor(Number(q.get('context')) || 0))),
    time: q.get('time') === 'elapsed' ? 'elapsed' : 'wall',
    fold: q.get('fold') !== '0' && q.get('fold') !== 'false',
    sort: q.get('sort') === 'time' ? 'time' : 'line',
    since: isoOrNull(q.get('since')),
    until: isoOrNull(q.get('until')),
    line: range?.first ?? null,
    lineEnd: range && range.last !== range.first ? range.last : null,
  };
}

/** The query string (with `?`, or '') for a state; the line goes in the hash, see lineHash. */
export function viewStateQuery(s: ViewState): string {
  const q = new URLSearchParams();
  if (s.levels.length) q.set('level', canonical(LEVELS, s.levels).join(','));
  if (s.sources.length) q.set('source', canonical(SOURCES, s.sources).join(','));
  if (s.writers.length) q.set('writer', [...new Set(s.writers)].sort().join(','));
  if (s.fields.length) q.set('field', [...new Set(s.fields)].join(','));
  if (s.search) q.set('q', s.search);
  if (s.regex) q.set('regex', '1');
  if (s.onlyMatches) q.set('only', '1');
  if (s.wrap) q.set('wrap', '1');
  if (s.fullDate) q.set('date', '1');
  if (s.caseSensitive) q.set('case', '1');
  if (s.wholeWord) q.set('word', '1');
  if (s.context > 0) q.set('context', String(s.context));
  if (s.time === 'elapsed') q.set('time', 'elapsed');
  if (!s.fold) q.set('fold', '0');
  if (s.sort === 'time') q.set('sort', 'time');
  if (s.since) q.set('since', s.since);
  if (s.until) q.set('until', s.until);
  const str = q.toString();
  return str ? `?${str}` : '';
}

export function lineHash(line: number | null, lineEnd: number | null = null): string {
  if (line === null) return '';
  return lineEnd !== null && lineEnd !== line ? `#L${line}-L${lineEnd}` : `#L${line}`;
}

function escapeRe2(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** The search the server runs for what was typed and the case / whole-word / regex toggles. A
 * plain case-insensitive search stays a substring search (the server's fast path); the other
 * combinations become one RE2 pattern, so server and highlighter agree on what matches. The case
 * toggle means the same with and without regex: off = case-insensitive. */
export function effectiveSearch(s: Pick<ViewState, 'search' | 'regex' | 'caseSensitive' | 'wholeWord'>): { search: string; regex: boolean } {
  if (!s.search) return { search: '', regex: false };
  if (!s.regex && !s.caseSensitive && !s.wholeWord) return { search: s.search, regex: false };
  let body = s.regex ? s.search : escapeRe2(s.search);
  if (s.wholeWord) body = `\\b(?:${body})\\b`;
  if (!s.caseSensitive) body = `(?i)${body}`;
  return { search: body, regex: true };
}

function timeWindow(s: ViewState): Pick<ServerFilters, 'since' | 'until'> {
  return { since: s.since ?? undefined, until: s.until ?? undefined };
}

/** What the server filters the viewed lines by. Search filters only in "only matches" mode. */
export function viewFilters(s: ViewState): ServerFilters {
  const withSearch = s.onlyMatches && s.search !== '';
  const eff = effectiveSearch(s);
  return {
    levels: s.levels,
    sources: s.sources,
    writers: s.writers,
    ...(s.fields.length ? { fields: s.fields } : {}),
    search: withSearch ? eff.search : '',
    regex: withSearch && eff.regex,
    ...timeWindow(s),
    ...(withSearch && s.context > 0 ? { context: s.context } : {}),
  };
}

/** The filters that select the search matches (for counting and next/previous). */
export function matchFilters(s: ViewState): ServerFilters {
  const eff = effectiveSearch(s);
  return {
    levels: s.levels,
    sources: s.sources,
    writers: s.writers,
    ...(s.fields.length ? { fields: s.fields } : {}),
    search: eff.search,
    regex: eff.regex,
    ...timeWindow(s),
  };
}

export function isUnfiltered(f: ServerFilters): boolean {
  return !f.levels.length && !f.sources.length && !f.writers.length && !f.fields?.length && !f.search && !f.since && !f.until;
}

/** A stable key: two states with the same key show the same lines. */
export function filtersKey(f: ServerFilters): string {
  return JSON.stringify([f.levels, f.sources, f.writers, f.search, f.regex, f.since ?? null, f.until ?? null, f.context ?? 0, f.fields ?? []]);
}

export function toggle<T>(values: readonly T[], v: T): T[] {
  return values.includes(v) ? values.filter((x) => x !== v) : [...values, v];
}
