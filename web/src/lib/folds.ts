// Folding: the server names a view's folds (GET .../logs/folds: sorted, disjoint ranges of view
// indices); the viewer shows a closed fold as one row. RowMap turns the fold list and the set of
// opened folds into the row <-> index mapping the viewport scrolls by: prefix sums of the rows
// each closed fold hides, and binary search, so a view of 10M lines with 100k folds maps a row
// in O(log folds) and never needs its lines.
import type { FoldsResult } from '../api/types';

export type FoldKind = 'traceback' | 'record' | 'repeat';

const KINDS: Record<string, FoldKind> = { t: 'traceback', r: 'record', x: 'repeat' };

export interface FoldInfo {
  /** Its first index: what names a fold for open/close (it stays while a live view grows). */
  start: number;
  length: number;
  kind: FoldKind;
  open: boolean;
}

/** The folds of one view, immutable. Starts ascending, ranges disjoint, lengths >= 2. */
export class FoldList {
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  readonly kinds: string;

  constructor(starts: ArrayLike<number>, lengths: ArrayLike<number>, kinds: string) {
    this.starts = Int32Array.from(starts);
    this.lengths = Int32Array.from(lengths);
    this.kinds = kinds;
  }

  static fromResult(r: Pick<FoldsResult, 'start' | 'length' | 'kind'>): FoldList {
    // Trust but check: a malformed answer folds nothing rather than hiding lines wrongly.
    const n = Math.min(r.start.length, r.length.length);
    const starts: number[] = [];
    const lengths: number[] = [];
    let kinds = '';
    let end = 0;
    for (let i = 0; i < n; i++) {
      const s = r.start[i]!;
      const l = r.length[i]!;
      if (!Number.isInteger(s) || !Number.isInteger(l) || l < 2 || s < end) continue;
      starts.push(s);
      lengths.push(l);
      kinds += r.kind[i] ?? 'r';
      end = s + l;
    }
    return new FoldList(starts, lengths, kinds);
  }

  static readonly EMPTY = new FoldList([], [], '');

  get size(): number {
    return this.starts.length;
  }

  /** The fold containing `index`, as its number, or -1. */
  find(index: number): number {
    const k = upperBound(this.starts, index) - 1;
    if (k < 0) return -1;
    return index < this.starts[k]! + this.lengths[k]! ? k : -1;
  }

  kind(id: number): FoldKind {
    return KINDS[this.kinds[id] ?? 'r'] ?? 'record';
  }
}

/** First i with a[i] > x (a ascending). */
function upperBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Rows of a view with some folds closed. Closed fold k hides length-1 rows; H[k] is the rows
 * hidden by the closed folds before it, so its row is start - H[k] and an index after it (and
 * before the next closed fold) is at row index - H[k+1].
 */
export class RowMap {
  /** Closed folds: start, end (exclusive), and hidden-before prefix sums (length closed + 1). */
  private readonly cStart: Int32Array;
  private readonly cEnd: Int32Array;
  private readonly cRow: Float64Array;
  private readonly hidden: Float64Array;

  constructor(
    readonly folds: FoldList,
    /** First indices of the folds shown open. */
    readonly opened: ReadonlySet<number>,
  ) {
    const closed: number[] = [];
    for (let i = 0; i < folds.size; i++) if (!opened.has(folds.starts[i]!)) closed.push(i);
    this.cStart = new Int32Array(closed.length);
    this.cEnd = new Int32Array(closed.length);
    this.cRow = new Float64Array(closed.length);
    this.hidden = new Float64Array(closed.length + 1);
    let h = 0;
    closed.forEach((id, k) => {
      const s = folds.starts[id]!;
      const l = folds.lengths[id]!;
      this.cStart[k] = s;
      this.cEnd[k] = s + l;
      this.cRow[k] = s - h;
      this.hidden[k] = h;
      h += l - 1;
    });
    this.hidden[closed.length] = h;
  }

  static identity(): RowMap {
    return new RowMap(FoldList.EMPTY, new Set());
  }

  /** Rows of a view of `total` indices (indices beyond the folds' view are unfolded). */
  rows(total: number): number {
    // A fold that reaches past `total` (a view that shrank) hides only what exists.
    let hidden = this.hidden[this.cStart.length]!;
    for (let k = this.cStart.length - 1; k >= 0 && this.cEnd[k]! > total; k--) {
      hidden -= this.cEnd[k]! - this.cStart[k]! - 1;
      if (this.cStart[k]! < total) hidden += total - this.cStart[k]! - 1;
    }
    return Math.max(0, total - hidden);
  }

  /** The view index shown at `row` (a closed fold's row shows its first line). */
  indexOfRow(row: number): number {
    const k = upperBound(this.cRow, row) - 1;
    if (k < 0) return row;
    if (row === this.cRow[k]) return this.cStart[k]!;
    return row + this.hidden[k + 1]!;
  }

  /** The row showing `index` (for an index inside a closed fold, the fold's row). */
  rowOfIndex(index: number): number {
    const k = upperBound(this.cStart, index) - 1;
    if (k < 0) return index;
    if (index < this.cEnd[k]!) return this.cRow[k]!;
    return index - this.hidden[k + 1]!;
  }

  /** Whether `index` is hidden (inside a closed fold, not its first line). */
  hiddenIndex(index: number): boolean {
    const k = upperBound(this.cStart, index) - 1;
    return k >= 0 && index > this.cStart[k]! && index < this.cEnd[k]!;
  }

  /** The fold that starts at `index`, if any (what a row's toggle shows). */
  foldStartingAt(index: number): FoldInfo | null {
    const id = this.folds.find(index);
    if (id < 0 || this.folds.starts[id] !== index) return null;
    return this.info(id);
  }

  /** The fold containing `index`, if any. */
  foldAt(index: number): FoldInfo | null {
    const id = this.folds.find(index);
    return id < 0 ? null : this.info(id);
  }

  private info(id: number): FoldInfo {
    const start = this.folds.starts[id]!;
    return { start, length: this.folds.lengths[id]!, kind: this.folds.kind(id), open: this.opened.has(start) };
  }

  /** The first index of the row after (dir 1) or before (dir -1) the row of `index`. */
  step(index: number, dir: 1 | -1, total: number): number {
    const row = this.rowOfIndex(index) + dir;
    const rows = this.rows(total);
    return this.indexOfRow(Math.max(0, Math.min(rows - 1, row)));
  }

  /** The same folds with the fold starting at `start` open (or closed). */
  withOpen(start: number, open: boolean): RowMap {
    if (this.opened.has(start) === open) return this;
    const next = new Set(this.opened);
    if (open) next.add(start);
    else next.delete(start);
    return new RowMap(this.folds, next);
  }
}
