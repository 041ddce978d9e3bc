// The one typed client of the wanLLMDB HTTP API (doc/api.md). Components never call fetch.
import type {
  Bookmark,
  FoldsResult,
  Histogram,
  LocateResult,
  LogLine,
  LogSummary,
  NewWebhook,
  Problem,
  Project,
  Retention,
  Run,
  RunsPage,
  RunsQuery,
  ServerFilters,
  Webhook,
  WhoAmI,
} from './types';
import { authFailure, parseRetryAfter } from '../lib/auth';
import type { ProjectProblemRow } from '../lib/project_problems';
import { LineSplitter, parseSearchRecord, type SearchEndRecord, type SearchRunRecord, type SearchProgressRecord } from '../lib/project_search';

export const API_PREFIX = '/api/v1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** `Retry-After` of a 429 or 503, in seconds. */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Query parameters for the list filters; empty filters add nothing. */
export function filterParams(f: ServerFilters | null): Record<string, string> {
  const p: Record<string, string> = {};
  if (!f) return p;
  if (f.levels.length) p.level = f.levels.join(',');
  if (f.sources.length) p.source = f.sources.join(',');
  if (f.writers.length) p.writer = f.writers.join(',');
  if (f.search) {
    if (f.regex) p.regex = f.search;
    else p.search = f.search;
    if (f.context) p.context = String(f.context);
  }
  if (f.since) p.since = f.since;
  if (f.until) p.until = f.until;
  if (f.fields?.length) p.field = f.fields.join(',');
  return p;
}

export function buildQuery(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Who hears that a request was refused for want of a session (components/auth.tsx): 'session_lost'
 * after a 401, 'recheck' after a 403 (whoami tells a lost session from a key that lacks a scope).
 * Only failures of requests sent since the last sign-in count: a slow answer from before it says
 * nothing about the new session.
 */
export type AuthFailureListener = (kind: 'session_lost' | 'recheck') => void;
let authListener: AuthFailureListener | null = null;
let sessionEpoch = 0;

export function onAuthFailure(fn: AuthFailureListener): () => void {
  authListener = fn;
  return () => {
    if (authListener === fn) authListener = null;
  };
}

/** Asks the listener to confirm the session (e.g. when the live stream cannot reconnect). */
export function recheckSession(): void {
  authListener?.('recheck');
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const epoch = sessionEpoch;
  let res: Response;
  try {
    res = await fetch(API_PREFIX + path, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the wanLLMDB server');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) throw refusal(res, json, path, epoch);
  return json as T;
}

/** The ApiError for a non-2xx answer (its JSON error body parsed, or undefined). */
function refusal(res: Response, json: unknown, path: string, epoch: number): ApiError {
  const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
  const failure = authFailure(res.status, path);
  if (failure && epoch === sessionEpoch) authListener?.(failure);
  return new ApiError(
    res.status,
    err?.code ?? 'http_' + res.status,
    err?.message ?? `HTTP ${res.status}`,
    parseRetryAfter(res.headers.get('Retry-After'), Date.now()),
  );
}

export interface ProjectSearchParams {
  text: string;
  regex: boolean;
  cursor?: string | null;
  /** Runs with matches in one page. */
  limit?: number;
  /** First matching lines kept per run. */
  preview?: number;
}

/**
 * A project-wide search, streamed: `onRun` hears each run with matches as the server finishes
 * it; resolves with the end record (its cursor starts the next page). A stream that ends without
 * one was cut short, and rejects.
 */
async function searchProject(
  project: string,
  p: ProjectSearchParams,
  onRecord: (r: SearchRunRecord | SearchProgressRecord) => void,
  signal?: AbortSignal,
): Promise<SearchEndRecord> {
  const epoch = sessionEpoch;
  const path =
    `/projects/${encodeURIComponent(project)}/search` +
    buildQuery({ [p.regex ? 'regex' : 'q']: p.text, cursor: p.cursor, limit: p.limit, preview: p.preview });
  let res: Response;
  try {
    res = await fetch(API_PREFIX + path, { signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the wanLLMDB server');
  }
  if (!res.ok || !res.body) {
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    throw refusal(res, json, path, epoch);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const lines = new LineSplitter();
  let end: SearchEndRecord | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const line of lines.push(value)) {
      const rec = parseSearchRecord(line);
      if (rec?.type === 'run' || rec?.type === 'progress') onRecord(rec);
      if (rec?.type === 'end') end = rec;
    }
  }
  if (!end) throw new ApiError(0, 'incomplete', 'The search was cut short (the server gave up or went away); try again');
  return end;
}

export interface ListLogsParams {
  afterLine?: number;
  beforeLine?: number;
  limit?: number;
  order?: 'asc' | 'desc';
  /** Interleave by time: positions in (timestamp, line) order, paged by `offset`. */
  sort?: 'time';
  offset?: number;
  /** The view's last line (a time-ordered view of a live run stays the same while paged). */
  upToLine?: number;
}

export interface ViewParams {
  sort?: 'time';
  upToLine?: number;
}

export const api = {
  whoami: (signal?: AbortSignal) => request<WhoAmI>('GET', '/auth/whoami', undefined, signal),
  /** The key goes only in this body; the answer sets the HttpOnly session cookie. */
  signIn: (key: string) =>
    request<WhoAmI>('POST', '/auth/session', { key }).then((me) => {
      sessionEpoch++;
      return me;
    }),
  signOut: () => request<void>('DELETE', '/auth/session'),
  health: () => request<{ status: string; version: string }>('GET', '/health'),
  listProjects: (signal?: AbortSignal) =>
    request<{ projects: Project[] }>('GET', '/projects', undefined, signal).then((r) => r.projects),
  listRuns: (q: RunsQuery, signal?: AbortSignal) =>
    request<RunsPage>(
      'GET',
      '/runs' + buildQuery({ project: q.project, q: q.q, state: q.state, sort: q.sort, order: q.order, cursor: q.cursor, limit: q.limit ?? 100 }),
      undefined,
      signal,
    ),
  getRetention: (project: string, signal?: AbortSignal) =>
    request<Retention>('GET', `/projects/${encodeURIComponent(project)}/retention`, undefined, signal),
  getRun: (id: string, signal?: AbortSignal) =>
    request<Run>('GET', `/runs/${encodeURIComponent(id)}`, undefined, signal),
  deleteRun: (id: string) => request<void>('DELETE', `/runs/${encodeURIComponent(id)}`),
  clearLogs: (id: string) => request<void>('DELETE', `/runs/${encodeURIComponent(id)}/logs`),
  listBookmarks: (id: string, signal?: AbortSignal) =>
    request<{ bookmarks: Bookmark[] }>('GET', `/runs/${encodeURIComponent(id)}/bookmarks`, undefined, signal),
  addBookmark: (id: string, b: { line: number; last_line: number; note: string }) =>
    request<Bookmark>('POST', `/runs/${encodeURIComponent(id)}/bookmarks`, b),
  deleteBookmark: (id: string, bookmarkId: number) =>
    request<void>('DELETE', `/runs/${encodeURIComponent(id)}/bookmarks/${bookmarkId}`),
  listWebhooks: (project: string, signal?: AbortSignal) =>
    request<{ webhooks: Webhook[] }>('GET', `/projects/${encodeURIComponent(project)}/webhooks`, undefined, signal).then((r) => r.webhooks),
  addWebhook: (project: string, hook: NewWebhook) => request<Webhook>('POST', `/projects/${encodeURIComponent(project)}/webhooks`, hook),
  deleteWebhook: (project: string, id: string) =>
    request<void>('DELETE', `/projects/${encodeURIComponent(project)}/webhooks/${encodeURIComponent(id)}`),
  projectProblems: (project: string, kind: string, since: string, signal?: AbortSignal) =>
    request<{ project: string; run_count: number; problems: ProjectProblemRow[] }>(
      'GET',
      `/projects/${encodeURIComponent(project)}/problems` + buildQuery({ kind, since }),
      undefined,
      signal,
    ),
  runProblems: (id: string, signal?: AbortSignal) =>
    request<{ run_id: string; count: number; problems: Problem[] }>(
      'GET',
      `/runs/${encodeURIComponent(id)}/problems`,
      undefined,
      signal,
    ).then((r) => r.problems),
  summary: (id: string, signal?: AbortSignal) =>
    request<LogSummary>('GET', `/runs/${encodeURIComponent(id)}/logs/summary`, undefined, signal),
  listLogs: (id: string, filters: ServerFilters | null, p: ListLogsParams, signal?: AbortSignal) =>
    request<{ logs: LogLine[]; has_more: boolean; offset?: number; total?: number; up_to_line?: number }>(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs` +
        buildQuery({
          ...filterParams(filters),
          after_line: p.afterLine,
          before_line: p.beforeLine,
          limit: p.limit,
          order: p.order,
          sort: p.sort,
          offset: p.offset,
          up_to_line: p.upToLine,
        }),
      undefined,
      signal,
    ),
  locate: (id: string, filters: ServerFilters | null, line: number, signal?: AbortSignal, v: ViewParams = {}) =>
    request<LocateResult>(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs/locate` + buildQuery({ ...filterParams(filters), line, sort: v.sort, up_to_line: v.upToLine }),
      undefined,
      signal,
    ),
  /** The view's folds (doc/api.md "Folds"); a view with context lines has none. */
  folds: (id: string, filters: ServerFilters | null, v: ViewParams, signal?: AbortSignal) =>
    request<FoldsResult>(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs/folds` + buildQuery({ ...filterParams(filters), sort: v.sort, up_to_line: v.upToLine }),
      undefined,
      signal,
    ),
  searchProject,
  histogram: (id: string, filters: ServerFilters | null, buckets: number, signal?: AbortSignal) =>
    request<Histogram>(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs/histogram` + buildQuery({ ...filterParams(filters), buckets }),
      undefined,
      signal,
    ),
};

export type Api = typeof api;

export interface DownloadOptions {
  /** Keep escape codes in TXT/CSV (default: plain text, as shown). */
  raw?: boolean;
  /** A .gz file. */
  gzip?: boolean;
  /** Timestamps as UTC wall clock (default) or elapsed since the run's first line. */
  time?: 'utc' | 'elapsed';
}

export function downloadUrl(id: string, format: 'txt' | 'json' | 'csv', filters: ServerFilters | null, opts: DownloadOptions = {}): string {
  const { context: _context, ...rest } = filters ?? { levels: [], sources: [], writers: [], search: '', regex: false };
  return (
    `${API_PREFIX}/runs/${encodeURIComponent(id)}/logs/download` +
    buildQuery({
      ...filterParams(filters ? rest : null),
      format,
      raw: opts.raw ? 1 : undefined,
      gzip: opts.gzip ? 1 : undefined,
      time: opts.time === 'elapsed' ? 'elapsed' : undefined,
    })
  );
}

export function streamUrl(id: string, filters: ServerFilters | null, afterLine: number | null, loc: Location): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = buildQuery({ ...filterParams(filters), after_line: afterLine ?? undefined, tail: afterLine === null ? 500 : undefined });
  return `${proto}//${loc.host}${API_PREFIX}/runs/${encodeURIComponent(id)}/logs/stream${q}`;
}
