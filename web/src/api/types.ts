import type { Fields } from '../lib/fields';
// Wire types of doc/api.md. Fields may be added by the server, never renamed.

export const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];
export const SOURCES = ['stdout', 'stderr', 'sdk', 'user', 'system'] as const;
export type Source = (typeof SOURCES)[number];
export const RUN_STATES = ['running', 'finished', 'failed', 'crashed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface LogLine {
  run_id: string;
  line_number: number;
  timestamp: string;
  level: Level;
  source: Source;
  writer: string;
  message: string;
  /** The program's own name of a custom level (SUCCESS, TRACE); `level` is what it maps to. */
  level_name?: string;
  /** Fields of a structured line (parsed JSON / logfmt, or sent with log_message). */
  fields?: Fields;
  /** A line shown as context around a match (`context=N`), not a match itself. */
  context?: boolean;
}

export interface Project {
  name: string;
  created_at: string;
  run_count: number;
  last_run_at: string | null;
}

export interface Run {
  id: string;
  project: string;
  name: string;
  state: RunState;
  exit_code: number | null;
  created_at: string;
  finished_at: string | null;
  config: unknown;
  tags: string[] | null;
  line_count: number;
  error_count: number;
  last_line: number;
  /** In run listings: the run's worst problem (short form), or null. */
  top_problem?: Problem | null;
  /** The oldest lines retention removed; null when none were. */
  removed?: RemovedLines | null;
}

export const PROBLEM_KINDS = [
  'killed',
  'segfault',
  'cuda_oom',
  'nccl_timeout',
  'nccl_error',
  'disk_full',
  'signal',
  'assertion',
  'traceback',
  'nan_loss',
  'stalled',
  'custom',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface ProblemWriter {
  writer: string;
  first_line: number;
  last_line: number;
  last_seen_line: number;
  occurrences: number;
}

/** A problem event (doc/problems.md): one per signature of a run, with every writer it hit. */
export interface Problem {
  kind: ProblemKind | string;
  rule: string;
  level: Level;
  title: string;
  signature: string;
  first_line: number;
  last_line: number;
  first_timestamp: string;
  detected_at: string;
  occurrences: number;
  writer_count: number;
  /** Not in the short form (run listings). */
  detail?: string;
  writers?: ProblemWriter[];
}

/** Lines retention removed from a run (doc/api.md, the summary's `removed`). */
export interface RemovedLines {
  from_line: number;
  to_line: number;
  by: 'retention';
  at: string | null;
}

/** A retention policy's limits (doc/api.md "Projects"): null = no limit. */
export interface RetentionLimits {
  max_age_days?: number | null;
  max_age_action?: 'delete_logs' | 'delete_run' | null;
  max_lines_per_run?: number | null;
  max_bytes_per_run?: number | null;
  max_bytes_per_project?: number | null;
}

export interface Retention {
  project: string;
  /** What the project sets: an absent field follows the server default. */
  policy: RetentionLimits;
  defaults: RetentionLimits;
  effective: RetentionLimits;
  updated_at: string | null;
}

export const RUN_SORTS = ['created_at', 'duration', 'lines', 'errors'] as const;
export type RunSort = (typeof RUN_SORTS)[number];

export interface RunsQuery {
  project: string;
  /** Name, id prefix or tag contains this (case-insensitive). */
  q?: string;
  state?: RunState;
  sort?: RunSort;
  order?: 'asc' | 'desc';
  cursor?: string;
  limit?: number;
}

export interface RunsPage {
  runs: Run[];
  /** Pass as `cursor` for the next page; null on the last. */
  next_cursor: string | null;
  /** How many runs match in all. */
  total?: number;
}

export interface LogSummary {
  total: number;
  bytes: number;
  by_level: Record<Level, number>;
  by_source: Record<Source, number>;
  by_writer: Record<string, number>;
  first_timestamp: string | null;
  last_timestamp: string | null;
  first_line: number | null;
  last_line: number | null;
  removed?: RemovedLines | null;
}

export interface HistogramBucket {
  start: string;
  end: string;
  first_line: number | null;
  counts: Record<Level, number>;
}

export interface Histogram {
  buckets: HistogramBucket[];
  since: string | null;
  until: string | null;
}

export interface LocateResult {
  index: number;
  total: number;
  /** sort=time: the last line of the view the index is in. */
  up_to_line?: number;
}

/** GET .../logs/folds: fold i covers positions start[i] .. start[i] + length[i] - 1 of the view;
 * kind[i] is 't' (traceback), 'r' (multi-line record) or 'x' (identical lines). */
export interface FoldsResult {
  total: number;
  up_to_line: number;
  sort: 'line' | 'time';
  start: number[];
  length: number[];
  kind: string;
  /** Positions inside fold spans holding other writers' lines: hole k is `at[k]` of fold `fold[k]`. */
  holes: { fold: number[]; at: number[] };
}

/** Filters the server applies (the list filters of doc/api.md). */
export interface ServerFilters {
  levels: Level[];
  sources: Source[];
  writers: string[];
  search: string;
  regex: boolean;
  /** ISO 8601 time window, inclusive. */
  since?: string;
  until?: string;
  /** Lines of context around each text match (only with a search). */
  context?: number;
  /** Field filters (`loss>1.5`), all must hold. */
  fields?: string[];
}

/** A line or range a reader marked with a note (GET/POST /runs/{id}/bookmarks). */
export interface Bookmark {
  id: number;
  run_id: string;
  line: number;
  last_line: number;
  note: string;
  created_by: string;
  created_at: string;
}

/** A line still being written (a progress bar's current state): shown live, never stored. */
export interface ProgressLine {
  type: 'progress';
  writer: string;
  source: Source;
  level: Level;
  timestamp: string;
  message: string;
}

export type StreamFrame =
  | { type: 'logs'; logs: LogLine[] }
  | ProgressLine
  | { type: 'run'; state: RunState; exit_code: number | null }
  | { type: 'cleared' }
  | { type: 'pong' }
  | { type: 'error'; error: { code: string; message: string } };

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** `GET /auth/whoami` (also the answer of `POST /auth/session`). */
export interface WhoAmI {
  auth_required: boolean;
  signed_in: boolean;
  anonymous: boolean;
  via: 'key' | 'cookie' | 'anonymous' | 'none';
  name: string;
  scopes: Scope[];
  /** Empty: every project. */
  projects: string[];
}

/** One delivery of a webhook with its latest attempt (doc/api.md "Webhooks"). */
export interface DeliveryRecord {
  id: number;
  /** When it last changed. */
  at: string;
  event: string;
  run_id: string;
  state: 'pending' | 'delivered' | 'gave_up';
  /** Attempts so far. */
  attempt: number;
  status: number;
  error: string;
  /** Pending: when it is tried next. */
  next_attempt_at: string | null;
}

/** A project's webhook (doc/alerts.md) with its delivery log, kept in the store (every node's). */
export interface Webhook {
  id: string;
  url: string;
  format: 'json' | 'slack';
  problem_kinds: string[];
  on_run_end: boolean;
  on_stall: boolean;
  created_at: string;
  deliveries: {
    delivered: number;
    failed_attempts: number;
    gave_up: number;
    pending: number;
    last_status: number;
    last_error: string;
    last_attempt_at: string | null;
    last_success_at: string | null;
    recent: DeliveryRecord[];
  };
}

export interface NewWebhook {
  url: string;
  format?: 'json' | 'slack';
  problem_kinds?: string[];
  on_run_end?: boolean;
  on_stall?: boolean;
}
