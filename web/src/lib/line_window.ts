// The viewer's window onto a run: a bounded cache of lines keyed by their index in the current
// view (the filtered sequence of lines), and the arithmetic that turns "rows [a, b) are missing"
// into server requests by line number.
//
// Index <-> line number:
//  - unfiltered view: lines are dense from first_line, so index = line_number - first_line;
//  - filtered view: the server's /logs/locate?line=N tells how many matching lines come before N,
//    i.e. the index of the first matching line >= N. Every cached line is such an anchor too. To
//    reach an index far from any anchor we search line numbers (interpolation, with bisection
//    steps so it always converges) until an anchor is within MAX_GAP rows, then page from it.
import type { LogLine } from '../api/types';

export const PAGE = 500;
/** Largest distance we read through instead of searching (one request, limit <= 10,000). */
export const MAX_GAP = 2000;
export const MAX_LIMIT = 10_000;

export interface Anchor {
  index: number;
  line: number;
}

/** Lines by view index in pages of PAGE, evicting the least recently used page beyond maxPages.
 * Not thread-safe (there are no threads): owned by one LogView. */
export class LineCache {
  private pages_ = new Map<number, Array<LogLine | undefined>>();

  constructor(readonly maxPages = 64) {}

  get(index: number): LogLine | undefined {
    return this.pages_.get(Math.floor(index / PAGE))?.[index % PAGE];
  }

  has(index: number): boolean {
    return this.get(index) !== undefined;
  }

  /** Stores lines at consecutive indices from `start`. */
  set(start: number, lines: readonly LogLine[]): void {
    for (let i = 0; i < lines.length; i++) {
      const index = start + i;
      const p = Math.floor(index / PAGE);
      let page = this.pages_.get(p);
      if (!page) {
        page = new Array<LogLine | undefined>(PAGE);
        this.pages_.set(p, page);
      }
      page[index % PAGE] = lines[i];
    }
    this.evict();
  }

  /** Marks the pages of [first, end) as recently used so they are evicted last. */
  touch(first: number, end: number): void {
    for (let p = Math.floor(first / PAGE); p * PAGE < end; p++) {
      const page = this.pages_.get(p);
      if (page) {
        this.pages_.delete(p);
        this.pages_.set(p, page);
      }
    }
  }

  private evict(): void {
    while (this.pages_.size > this.maxPages) {
      const oldest = this.pages_.keys().next().value as number;
      this.pages_.delete(oldest);
    }
  }

  /** Maximal runs of missing indices within [first, end), in order. */
  missing(first: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let start = -1;
    for (let i = first; i < end; i++) {
      const present = this.has(i);
      if (!present && start < 0) start = i;
      if (present && start >= 0) {
        out.push([start, i]);
        start = -1;
      }
    }
    if (start >= 0) out.push([start, end]);
    return out;
  }

  /** Cached anchors around `index`: the nearest at or below it and the nearest above it. */
  bracket(index: number): { below: Anchor | null; above: Anchor | null } {
    let below: Anchor | null = null;
    let above: Anchor | null = null;
    for (const [p, page] of this.pages_) {
      for (let k = 0; k < PAGE; k++) {
        const line = page[k];
        if (!line) continue;
        const i = p * PAGE + k;
        if (i <= index && (!below || i > below.index)) below = { index: i, line: line.line_number };
        if (i > index && (!above || i < above.index)) above = { index: i, line: line.line_number };
      }
    }
    return { below, above };
  }

  /** Cached line with this line number, and its index (linear in the cache size). */
  findLine(lineNumber: number): Anchor | null {
    for (const [p, page] of this.pages_) {
      for (let k = 0; k < PAGE; k++) {
        if (page[k]?.line_number === lineNumber) return { index: p * PAGE + k, line: lineNumber };
      }
    }
    return null;
  }

  /** Whether no line is held (cheap, unlike size()). */
  isEmpty(): boolean {
    return this.pages_.size === 0;
  }

  /** Number of lines held (for tests and the memory budget). */
  size(): number {
    let n = 0;
    for (const page of this.pages_.values()) for (const l of page) if (l) n++;
    return n;
  }

  clear(): void {
    this.pages_.clear();
  }
}

export type FetchPlan =
  /** GET logs order=asc after_line; result i is index startIndex + i. */
  | { kind: 'asc'; afterLine: number; limit: number; startIndex: number }
  /** GET logs order=desc before_line; result i is index endIndex - 1 - i. */
  | { kind: 'desc'; beforeLine: number; limit: number; endIndex: number }
  /** No anchor near enough: search one with locate first (searchAnchor), then planFromAnchor. */
  | { kind: 'search'; target: number };

/** Plans the request for the missing rows [start, end). */
export function planFetch(
  start: number,
  end: number,
  view: { unfiltered: boolean; firstLine: number | null },
  cache: LineCache,
): FetchPlan {
  if (view.unfiltered && view.firstLine !== null) {
    return { kind: 'asc', afterLine: view.firstLine + start - 1, limit: Math.min(MAX_LIMIT, end - start), startIndex: start };
  }
  const { below, above } = cache.bracket(start);
  const belowGap = below ? start - below.index : Infinity;
  const aboveGap = above ? above.index - end : Infinity;
  if (below && belowGap <= MAX_GAP && (belowGap <= aboveGap || !above)) {
    return { kind: 'asc', afterLine: below.line, limit: Math.min(MAX_LIMIT, end - below.index - 1), startIndex: below.index + 1 };
  }
  if (above && aboveGap <= MAX_GAP) {
    return { kind: 'desc', beforeLine: above.line, limit: Math.min(MAX_LIMIT, above.index - start), endIndex: above.index };
  }
  return { kind: 'search', target: start };
}

/** Given a located anchor at or before `start`, the request that reads [start, end). */
export function planFromAnchor(anchor: Anchor, end: number): FetchPlan {
  return { kind: 'asc', afterLine: anchor.line - 1, limit: Math.min(MAX_LIMIT, Math.max(1, end - anchor.index)), startIndex: anchor.index };
}

/**
 * Finds a line number L whose locate index i = locate(L) satisfies i <= target < i + MAX_GAP
 * (or the best bracket when the run has no finer resolution), using `locate` sparingly:
 * interpolation search on line numbers, every third step a bisection so skewed distributions
 * still converge in O(log n) calls. `lo` and `hi` are known anchors with lo.index <= target <
 * hi.index (hi may be one past the last line with index = total).
 */
export async function searchAnchor(
  target: number,
  lo: Anchor,
  hi: Anchor,
  locate: (line: number) => Promise<number>,
  maxSteps = 40,
): Promise<{ anchor: Anchor; steps: number }> {
  let steps = 0;
  while (target - lo.index >= MAX_GAP && hi.line - lo.line > 1 && steps < maxSteps) {
    let line: number;
    if (steps % 3 === 2 || hi.index === lo.index) {
      line = Math.floor((lo.line + hi.line) / 2);
    } else {
      const f = (target - lo.index + MAX_GAP / 4) / (hi.index - lo.index);
      line = lo.line + Math.round(f * (hi.line - lo.line));
    }
    line = Math.min(hi.line - 1, Math.max(lo.line + 1, line));
    const index = await locate(line);
    steps++;
    if (index <= target) lo = { index, line };
    else hi = { index, line };
  }
  return { anchor: lo, steps };
}

/** Applies a fetched page to the cache according to its plan; returns the rows stored. */
export function storeFetched(cache: LineCache, plan: FetchPlan, logs: readonly LogLine[]): number {
  if (plan.kind === 'asc') {
    cache.set(plan.startIndex, logs);
    return logs.length;
  }
  if (plan.kind === 'desc') {
    const asc = [...logs].reverse();
    cache.set(plan.endIndex - asc.length, asc);
    return asc.length;
  }
  return 0;
}

/** Pages to prefetch around the visible rows: the window grown by one page each way. */
export function wantedRange(first: number, end: number, total: number): [number, number] {
  const a = Math.max(0, Math.floor(first / PAGE) * PAGE - (first % PAGE < PAGE / 4 ? PAGE : 0));
  const b = Math.min(total, Math.ceil(end / PAGE) * PAGE + (PAGE - (end % PAGE) < PAGE / 4 ? PAGE : 0));
  return [a, Math.max(a, b)];
}
