// The one typed client of the wanLLMDB HTTP API (doc/api.md). Components never call fetch.
import type {
  Histogram,
  LocateResult,
  LogLine,
  LogSummary,
  Project,
  Run,
  RunsPage,
  RunsQuery,
  ServerFilters,
} from './types';

export const API_PREFIX = '/api/v1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
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
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_' + res.status, err?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

export interface ListLogsParams {
  afterLine?: number;
  beforeLine?: number;
  limit?: number;
  order?: 'asc' | 'desc';
}

export const api = {
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
  getRun: (id: string, signal?: AbortSignal) =>
    request<Run>('GET', `/runs/${encodeURIComponent(id)}`, undefined, signal),
  deleteRun: (id: string) => request<void>('DELETE', `/runs/${encodeURIComponent(id)}`),
  clearLogs: (id: string) => request<void>('DELETE', `/runs/${encodeURIComponent(id)}/logs`),
  summary: (id: string, signal?: AbortSignal) =>
    request<LogSummary>('GET', `/runs/${encodeURIComponent(id)}/logs/summary`, undefined, signal),
  listLogs: (id: string, filters: ServerFilters | null, p: ListLogsParams, signal?: AbortSignal) =>
    request<{ logs: LogLine[]; has_more: boolean }>(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs` +
        buildQuery({
          ...filterParams(filters),
          after_line: p.afterLine,
          before_line: p.beforeLine,
          limit: p.limit,
          order: p.order,
        }),
      undefined,
      signal,
    ),
  locate: (id: string, filters: ServerFilters | null, line: number, signal?: AbortSignal) =>
    request<LocateResult>(
      'GET',
      `/runs/${encodeURIComponent(id)}/logs/locate` + buildQuery({ ...filterParams(filters), line }),
      undefined,
      signal,
    ),
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
