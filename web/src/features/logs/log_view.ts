// LogView: the data behind one log viewer (one run, one set of server filters). It owns the line
// cache, pages lines in from the server as rows become visible, counts rows (the view's `total`),
// and applies the live tail. React reads it through subscribe()/snapshot() and never sees fetch.
//
// Opening: summary (+ locate for a filtered view) fixes `total` and the cursor (the last line
// counted); the live tail then starts with after_line = cursor, so every later line is counted
// exactly once (see lib/live.ts).
import type { Api } from '../../api/client';
import { ApiError } from '../../api/client';
import type { LogLine, LogSummary, RunState, ServerFilters } from '../../api/types';
import { LEVELS, SOURCES } from '../../api/types';
import {
  LineCache,
  MAX_GAP,
  MAX_LIMIT,
  PAGE,
  planFetch,
  planFromAnchor,
  searchAnchor,
  storeFetched,
  wantedRange,
  type Anchor,
  type FetchPlan,
} from '../../lib/line_window';
import { LiveConnection, type LiveStatus, type SocketLike } from '../../lib/live';
import { applyProgress, settleProgress, type ProgressMap } from '../../lib/progress';
import { isUnfiltered } from '../../lib/view_state';

export type LogApi = Pick<Api, 'summary' | 'listLogs' | 'locate' | 'getRun'>;

export interface LogViewSnapshot {
  phase: 'loading' | 'ready' | 'error';
  error: string | null;
  /** Rows in this view. */
  total: number;
  summary: LogSummary | null;
  live: LiveStatus;
  liveError: string | null;
  retryInMs: number | null;
  /** When the next reconnection attempt is due (ms since epoch), while reconnecting. */
  retryAt: number | null;
  runState: RunState | null;
  fetchError: string | null;
  /** Unfinished lines (progress bars) per writer/stream, newest state only; never stored. */
  progress: ProgressMap;
  /** Bumped on every change; rows must re-read the cache. */
  version: number;
}

export interface LogViewOptions {
  createSocket: (afterLine: number) => SocketLike;
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void; now(): number };
  /** Start without the live tail (paused). */
  paused?: boolean;
  /** Interleave by time: rows are positions in the server's (timestamp, line) order of the
   * view's lines up to the last line at open; lines the live tail brings later are appended in
   * arrival order (a refresh sorts them in). */
  timeOrder?: boolean;
  maxPages?: number;
}

type Listener = () => void;

function emptySummary(): LogSummary {
  return {
    total: 0,
    bytes: 0,
    by_level: Object.fromEntries(LEVELS.map((l) => [l, 0])) as LogSummary['by_level'],
    by_source: Object.fromEntries(SOURCES.map((s) => [s, 0])) as LogSummary['by_source'],
    by_writer: {},
    first_timestamp: null,
    last_timestamp: null,
    first_line: null,
    last_line: null,
  };
}

function message(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export class LogView {
  readonly cache: LineCache;
  /** Rows are the run's lines in line order, dense from the first: index = line - first. */
  readonly unfiltered: boolean;
  readonly timeOrder: boolean;
  private snap_: LogViewSnapshot = {
    phase: 'loading',
    error: null,
    total: 0,
    summary: null,
    live: 'stopped',
    liveError: null,
    retryInMs: null,
    retryAt: null,
    runState: null,
    fetchError: null,
    progress: new Map(),
    version: 0,
  };
  private listeners_ = new Set<Listener>();
  private appendListeners_ = new Set<(n: number) => void>();
  private firstLine_: number | null = null;
  private cursorAtOpen_ = 0;
  private inflight_ = new Set<number>();
  private generation_ = 0;
  private live_: LiveConnection | null = null;
  private disposed_ = false;
  private paused_: boolean;
  private summaryTimer_: unknown = null;
  private readonly abort_ = new AbortController();
  private readonly timers_: NonNullable<LogViewOptions['timers']>;

  constructor(
    readonly runId: string,
    readonly filters: ServerFilters,
    private readonly api: LogApi,
    private readonly opts: LogViewOptions,
  ) {
    this.timeOrder = !!opts.timeOrder;
    this.unfiltered = isUnfiltered(filters) && !this.timeOrder;
    this.cache = new LineCache(opts.maxPages ?? 64);
    this.paused_ = !!opts.paused;
    this.timers_ = opts.timers ?? {
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (id) => window.clearTimeout(id as number),
      now: () => Date.now(),
    };
  }

  // --- React glue -------------------------------------------------------------------------------

  subscribe = (l: Listener): (() => void) => {
    this.listeners_.add(l);
    return () => this.listeners_.delete(l);
  };

  snapshot = (): LogViewSnapshot => this.snap_;

  /** Called with the number of rows appended by the live tail. */
  onAppend(fn: (n: number) => void): () => void {
    this.appendListeners_.add(fn);
    return () => this.appendListeners_.delete(fn);
  }

  private update(patch: Partial<LogViewSnapshot>): void {
    if (this.disposed_) return;
    this.snap_ = { ...this.snap_, ...patch, version: this.snap_.version + 1 };
    for (const l of this.listeners_) l();
  }

  // --- lifecycle --------------------------------------------------------------------------------

  async open(): Promise<void> {
    const gen = ++this.generation_;
    this.update({ phase: 'loading', error: null });
    try {
      const [run, summary] = await Promise.all([
        this.api.getRun(this.runId, this.abort_.signal),
        this.api.summary(this.runId, this.abort_.signal),
      ]);
      // No stored lines (new or cleared run): after_line=0 streams whatever arrives from now on.
      const lastLine = summary.last_line ?? 0;
      let total: number;
      // With no stored lines the server reports first_line 0 (or null) and last_line = the last
      // number ever assigned (numbering continues after a clear).
      const hasLines = summary.total > 0 && !!summary.first_line && !!summary.last_line;
      if (this.unfiltered) {
        this.firstLine_ = hasLines ? summary.first_line : null;
        total = hasLines ? summary.last_line! - summary.first_line! + 1 : 0;
      } else if (this.timeOrder) {
        this.firstLine_ = hasLines ? summary.first_line : null;
        total = lastLine > 0 ? (await this.api.locate(this.runId, this.filters, lastLine + 1, this.abort_.signal, this.viewParams(lastLine))).total : 0;
      } else {
        this.firstLine_ = hasLines ? summary.first_line : null;
        total = lastLine > 0 ? (await this.api.locate(this.runId, this.filters, lastLine + 1, this.abort_.signal)).index : 0;
      }
      if (gen !== this.generation_ || this.disposed_) return;
      this.cursorAtOpen_ = lastLine;
      this.cache.clear();
      this.update({ phase: 'ready', total, summary, runState: run.state });
      this.startLive(lastLine);
    } catch (e) {
      if (this.disposed_ || (e as Error).name === 'AbortError') return;
      this.update({ phase: 'error', error: message(e) });
    }
  }

  private startLive(afterLine: number): void {
    this.live_?.stop();
    const live = new LiveConnection(
      afterLine,
      {
        onLines: (lines) => this.append(lines),
        onRun: (state) => this.update({ runState: state }),
        onCleared: () => this.cleared(),
        onProgress: (p) => this.update({ progress: applyProgress(this.snap_.progress, p) }),
        onStatus: (status, d) =>
          this.update({
            live: status,
            retryInMs: d.retryInMs ?? null,
            retryAt: d.retryInMs !== undefined ? this.timers_.now() + d.retryInMs : null,
            liveError: d.error ?? null,
          }),
      },
      {
        url: (after) => String(after),
        createSocket: (url) => this.opts.createSocket(Number(url)),
        setTimeout: this.timers_.setTimeout,
        clearTimeout: this.timers_.clearTimeout,
        now: this.timers_.now,
      },
    );
    this.live_ = live;
    if (this.paused_) this.update({ live: 'paused' });
    else live.start();
  }

  pause(): void {
    this.paused_ = true;
    if (this.live_) this.live_.pause();
    else this.update({ live: 'paused' });
  }

  resume(): void {
    this.paused_ = false;
    if (!this.live_) return;
    if (this.live_.status === 'paused') this.live_.resume();
    else this.live_.start();
  }

  get paused(): boolean {
    return this.paused_;
  }

  /** The last line of the run when the view opened: the rows of a time-ordered view (and of
   * its folds) are the view's lines up to it. */
  get upToLine(): number {
    return this.cursorAtOpen_;
  }

  private viewParams(upTo = this.cursorAtOpen_): { sort?: 'time'; upToLine?: number } {
    return this.timeOrder ? { sort: 'time', upToLine: upTo } : {};
  }

  /** The highest line number the view has counted. */
  get cursor(): number {
    return this.live_?.cursor.last ?? this.cursorAtOpen_;
  }

  retryLive(): void {
    this.live_?.retryNow();
  }

  dispose(): void {
    this.disposed_ = true;
    this.generation_++;
    this.abort_.abort();
    this.live_?.stop();
    if (this.summaryTimer_ !== null) this.timers_.clearTimeout(this.summaryTimer_);
    this.listeners_.clear();
    this.appendListeners_.clear();
  }

  // --- live tail --------------------------------------------------------------------------------

  private append(lines: LogLine[]): void {
    const before = this.snap_.total;
    let total = before;
    if (this.unfiltered) {
      if (this.firstLine_ === null) this.firstLine_ = lines[0]!.line_number - before;
      for (const l of lines) {
        const idx = l.line_number - this.firstLine_;
        if (idx >= 0) {
          this.cache.set(idx, [l]);
          total = Math.max(total, idx + 1);
        }
      }
    } else {
      this.cache.set(before, lines);
      total = before + lines.length;
    }
    const summary = this.snap_.summary ? this.bumpSummary(this.snap_.summary, lines) : null;
    this.update({ total, summary, progress: settleProgress(this.snap_.progress, lines) });
    for (const fn of this.appendListeners_) fn(total - before);
  }

  /** Live lines change the run's totals; counted locally (exact for an unfiltered view), and
   * re-read from the server now and then for filtered views. */
  private bumpSummary(s: LogSummary, lines: LogLine[]): LogSummary {
    if (!this.unfiltered) {
      this.scheduleSummary();
      return s;
    }
    const by_level = { ...s.by_level };
    const by_source = { ...s.by_source };
    const by_writer = { ...s.by_writer };
    for (const l of lines) {
      by_level[l.level] = (by_level[l.level] ?? 0) + 1;
      by_source[l.source] = (by_source[l.source] ?? 0) + 1;
      by_writer[l.writer] = (by_writer[l.writer] ?? 0) + 1;
    }
    const last = lines[lines.length - 1]!;
    return {
      ...s,
      total: s.total + lines.length,
      by_level,
      by_source,
      by_writer,
      first_line: s.first_line ?? lines[0]!.line_number,
      first_timestamp: s.first_timestamp ?? lines[0]!.timestamp,
      last_line: last.line_number,
      last_timestamp: last.timestamp,
    };
  }

  private scheduleSummary(): void {
    if (this.summaryTimer_ !== null) return;
    this.summaryTimer_ = this.timers_.setTimeout(() => {
      this.summaryTimer_ = null;
      this.api
        .summary(this.runId, this.abort_.signal)
        .then((summary) => this.update({ summary }))
        .catch(() => {});
    }, 2000);
  }

  private cleared(): void {
    this.generation_++;
    this.cache.clear();
    this.inflight_.clear();
    this.located_ = [];
    this.firstLine_ = null;
    this.update({ total: 0, summary: emptySummary(), fetchError: null, progress: new Map() });
  }

  // --- paging -----------------------------------------------------------------------------------

  line(index: number): LogLine | undefined {
    return this.cache.get(index);
  }

  /** Makes rows [first, end) (and a page around them) available, fetching what is missing. */
  ensure(first: number, end: number): void {
    if (this.snap_.phase !== 'ready') return;
    const total = this.snap_.total;
    end = Math.min(end, total);
    if (first >= end) return;
    this.cache.touch(first, end);
    const [a, b] = wantedRange(first, end, total);
    // Visible pages first, then the prefetch margin.
    const pages: number[] = [];
    for (let p = Math.floor(first / PAGE); p * PAGE < end; p++) pages.push(p);
    for (let p = Math.floor(a / PAGE); p * PAGE < b; p++) if (!pages.includes(p)) pages.push(p);
    for (const p of pages) {
      if (this.inflight_.has(p)) continue;
      const s = Math.max(p * PAGE, 0);
      const e = Math.min((p + 1) * PAGE, total);
      const missing = this.cache.missing(s, e);
      if (!missing.length) continue;
      const [ms, me] = [missing[0]![0], missing[missing.length - 1]![1]];
      this.inflight_.add(p);
      void this.fetchRange(ms, me).finally(() => this.inflight_.delete(p));
    }
  }

  private async fetchRange(start: number, end: number): Promise<void> {
    const gen = this.generation_;
    if (this.timeOrder) return this.fetchPositions(start, end, gen);
    try {
      let plan: FetchPlan = planFetch(start, end, { unfiltered: this.unfiltered, firstLine: this.firstLine_ }, this.cache);
      if (plan.kind === 'search') {
        // A located line inside the range splits it: read back from it and on from it.
        const inside = this.located_.find((a) => a.index > start && a.index < end);
        if (inside) {
          await Promise.all([this.fetchRange(start, inside.index), this.fetchRange(inside.index, end)]);
          return;
        }
        const below = this.located_.filter((a) => a.index <= start && start - a.index < MAX_GAP).sort((a, b) => b.index - a.index)[0];
        const above = this.located_.filter((a) => a.index >= end && a.index - start <= MAX_GAP).sort((a, b) => a.index - b.index)[0];
        if (below) plan = planFromAnchor(below, end);
        else if (above) plan = { kind: 'desc', beforeLine: above.line, limit: above.index - start, endIndex: above.index };
      }
      if (plan.kind === 'search') {
        const anchor = await this.anchorFor(plan.target);
        if (gen !== this.generation_) return;
        plan = planFromAnchor(anchor, end);
      }
      const res =
        plan.kind === 'asc'
          ? await this.api.listLogs(this.runId, this.filters, { afterLine: plan.afterLine, limit: plan.limit, order: 'asc' }, this.abort_.signal)
          : plan.kind === 'desc'
            ? await this.api.listLogs(this.runId, this.filters, { beforeLine: plan.beforeLine, limit: plan.limit, order: 'desc' }, this.abort_.signal)
            : { logs: [] };
      if (gen !== this.generation_ || this.disposed_) return;
      if (this.unfiltered && this.firstLine_ !== null) {
        for (const l of res.logs) this.cache.set(l.line_number - this.firstLine_, [l]);
      } else {
        storeFetched(this.cache, plan, res.logs);
      }
      this.update({ fetchError: null });
    } catch (e) {
      if (this.disposed_ || (e as Error).name === 'AbortError') return;
      this.update({ fetchError: message(e) });
    }
  }

  /** Time order: rows are positions the server pages by offset (rows past the view's sorted
   * part came from the live tail and are always cached). */
  private async fetchPositions(start: number, end: number, gen: number): Promise<void> {
    try {
      const res = await this.api.listLogs(
        this.runId,
        this.filters,
        { sort: 'time', offset: start, limit: Math.min(MAX_LIMIT, end - start), upToLine: this.cursorAtOpen_ },
        this.abort_.signal,
      );
      if (gen !== this.generation_ || this.disposed_) return;
      this.cache.set(res.offset ?? start, res.logs);
      this.update({ fetchError: null });
    } catch (e) {
      if (this.disposed_ || (e as Error).name === 'AbortError') return;
      this.update({ fetchError: message(e) });
    }
  }

  /** An anchor at or before `target` within MAX_GAP rows (filtered views). */
  private async anchorFor(target: number): Promise<Anchor> {
    const { below, above } = this.cache.bracket(target);
    const first = this.snap_.summary?.first_line || 1;
    let lo: Anchor = below ?? { index: 0, line: first };
    let hi: Anchor = above ?? { index: this.snap_.total, line: this.cursor + 1 };
    for (const a of this.located_) {
      if (a.index <= target && a.line > lo.line) lo = a;
      if (a.index > target && a.line < hi.line) hi = a;
    }
    const { anchor } = await searchAnchor(target, lo, hi, (line) =>
      this.api.locate(this.runId, this.filters, line, this.abort_.signal).then((r) => {
        this.remember({ index: r.index, line });
        return r.index;
      }),
    );
    return anchor;
  }

  /** Located anchors (index of the first matching line >= line), newest last, bounded. */
  private located_: Anchor[] = [];

  private remember(a: Anchor): void {
    this.located_ = this.located_.filter((x) => x.line !== a.line);
    this.located_.push(a);
    if (this.located_.length > 64) this.located_.shift();
  }

  /** The line at `index` once it is loaded (undefined after `timeoutMs` or if the view goes). */
  whenLoaded(index: number, timeoutMs = 5000): Promise<LogLine | undefined> {
    const now = this.cache.get(index);
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      let done = false;
      const finish = (l: LogLine | undefined) => {
        if (done) return;
        done = true;
        unsubscribe();
        this.timers_.clearTimeout(timer);
        resolve(l);
      };
      const unsubscribe = this.subscribe(() => {
        const l = this.cache.get(index);
        if (l) finish(l);
      });
      const timer = this.timers_.setTimeout(() => finish(this.cache.get(index)), timeoutMs);
    });
  }

  /** The row index of `lineNumber` in this view (or of the first row after it, when it is
   * filtered out), clamped to the rows. */
  async indexOfLine(lineNumber: number): Promise<number> {
    const total = this.snap_.total;
    if (total === 0) return 0;
    let index: number;
    if (this.unfiltered && this.firstLine_ !== null) {
      index = lineNumber - this.firstLine_;
    } else {
      const cached = this.cache.findLine(lineNumber);
      if (cached) {
        index = cached.index;
      } else {
        index = (await this.api.locate(this.runId, this.filters, lineNumber, this.abort_.signal, this.viewParams())).index;
        if (!this.timeOrder) this.remember({ index, line: lineNumber });
      }
    }
    return Math.max(0, Math.min(total - 1, index));
  }
}
