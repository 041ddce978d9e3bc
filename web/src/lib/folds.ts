// Folding: the server names a view's folds (GET .../logs/folds: each a span of view indices from
// its first line, minus its holes — other writers' lines inside the span, when ranks interleave);
// the viewer shows a closed fold as one row, at its first line, and the holes as rows of their
// own after it. RowMap turns the fold list and the set of opened folds into the row <-> index
// mapping the viewport scrolls by: the hidden indices as sorted ranges with prefix sums, and
// binary search, so a view of 10M lines with 100k folds maps a row in O(log folds) and never
// needs its lines.
import type { FoldsResult } from '../api/types';

export type FoldKind = 'traceback' | 'record' | 'repeat';

const KINDS: Record<string, FoldKind> = { t: 'traceback', r: 'record', x: 'repeat' };

export interface FoldInfo {
  /** Its first index: what names a fold for open/close (it stays while a live view grows). */
  start: number;
  /** Its span: indices start .. start + length - 1, holes included. */
  length: number;
  /** Its own lines (the span without its holes). */
  lines: number;
  kind: FoldKind;
  open: boolean;
}

interface Candidate {
  start: number;
  length: number;
  kind: string;
  holes: number[];
}

/** Member ranges [begin, end) of a fold: its span cut at its holes. */
function rangesOf(start: number, length: number, holes: ArrayLike<number>, out: (b: number, e: number) => void): void {
  let at = start;
  for (let k = 0; k < holes.length; k++) {
    const h = holes[k]!;
    if (h > at) out(at, h);
    at = h + 1;
  }
  if (start + length > at) out(at, start + length);
}

/** The folds of one view, immutable. Starts ascending, lines disjoint, at least 2 lines each. */
export class FoldList {
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  readonly kinds: string;
  /** Holes of fold i: holeAt[holeOff[i] .. holeOff[i + 1]). */
  readonly holeOff: Int32Array;
  readonly holeAt: Int32Array;
  /** Every fold's lines as ranges [rBegin, rEnd) of fold rFold, sorted by rBegin. */
  readonly rBegin: Int32Array;
  readonly rEnd: Int32Array;
  readonly rFold: Int32Array;

  private constructor(c: readonly Candidate[], ranges: readonly [number, number, number][]) {
    this.starts = Int32Array.from(c, (f) => f.start);
    this.lengths = Int32Array.from(c, (f) => f.length);
    this.kinds = c.map((f) => f.kind).join('');
    this.holeOff = new Int32Array(c.length + 1);
    c.forEach((f, i) => (this.holeOff[i + 1] = this.holeOff[i]! + f.holes.length));
    this.holeAt = Int32Array.from(c.flatMap((f) => f.holes));
    this.rBegin = Int32Array.from(ranges, (r) => r[0]);
    this.rEnd = Int32Array.from(ranges, (r) => r[1]);
    this.rFold = Int32Array.from(ranges, (r) => r[2]);
  }

  static fromResult(r: Pick<FoldsResult, 'start' | 'length' | 'kind'> & Partial<Pick<FoldsResult, 'holes'>>): FoldList {
    // Trust but check: a malformed answer folds less rather than hiding lines wrongly.
    const n = Math.min(r.start.length, r.length.length);
    const holes: number[][] = Array.from({ length: n }, () => []);
    const hf = r.holes?.fold ?? [];
    const ha = r.holes?.at ?? [];
    for (let k = 0; k < Math.min(hf.length, ha.length); k++) {
      const i = hf[k]!;
      if (Number.isInteger(i) && i >= 0 && i < n) holes[i]!.push(ha[k]!);
    }
    let c: Candidate[] = [];
    let prevStart = -1;
    for (let i = 0; i < n; i++) {
      const s = r.start[i]!;
      const l = r.length[i]!;
      const h = holes[i]!;
      if (!Number.isInteger(s) || !Number.isInteger(l) || s <= prevStart || l - h.length < 2) continue;
      // Holes strictly inside the span, ascending: the first and last index are the fold's.
      if (!h.every((x, k) => Number.isInteger(x) && x > s && x < s + l - 1 && (k === 0 || x > h[k - 1]!))) continue;
      c.push({ start: s, length: l, kind: r.kind[i] ?? 'r', holes: h });
      prevStart = s;
    }
    // No line in two folds: drop the later fold of any pair that shares one.
    let ranges = memberRanges(c);
    for (;;) {
      const bad = sharing(ranges);
      if (!bad.size) break;
      c = c.filter((_, i) => !bad.has(i));
      ranges = memberRanges(c);
    }
    return new FoldList(c, ranges);
  }

  static readonly EMPTY = FoldList.fromResult({ start: [], length: [], kind: '' });

  get size(): number {
    return this.starts.length;
  }

  holes(id: number): Int32Array {
    return this.holeAt.subarray(this.holeOff[id]!, this.holeOff[id + 1]!);
  }

  /** How many lines fold `id` holds (its span without its holes). */
  lines(id: number): number {
    return this.lengths[id]! - (this.holeOff[id + 1]! - this.holeOff[id]!);
  }

  /** The fold holding `index` (a hole is not held), as its number, or -1. */
  find(index: number): number {
    const k = upperBound(this.rBegin, index) - 1;
    return k >= 0 && index < this.rEnd[k]! ? this.rFold[k]! : -1;
  }

  kind(id: number): FoldKind {
    return KINDS[this.kinds[id] ?? 'r'] ?? 'record';
  }
}

/** All candidates' member ranges [begin, end, fold], sorted by begin. */
function memberRanges(c: readonly Candidate[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  let sorted = true;
  c.forEach((f, i) =>
    rangesOf(f.start, f.length, f.holes, (b, e) => {
      if (out.length && b < out[out.length - 1]![0]) sorted = false;
      out.push([b, e, i]);
    }),
  );
  if (!sorted) out.sort((a, b) => a[0] - b[0]);
  return out;
}

/** Candidates (by number) whose lines another, earlier candidate holds too, from their
 * memberRanges. */
function sharing(ranges: readonly [number, number, number][]): Set<number> {
  const bad = new Set<number>();
  let end = -1;
  let owner = -1;
  for (const [b, e, i] of ranges) {
    if (b < end) bad.add(Math.max(i, owner));
    if (e > end) {
      end = e;
      owner = i;
    }
  }
  return bad;
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
 * Rows of a view with some folds closed. A closed fold hides its lines but the first; the hidden
 * indices are ranges [hStart[k], hEnd[k]) (sorted, disjoint), H[k] the indices hidden before range
 * k. A visible index i is at row i - (indices hidden before i); a hidden one shows at the row of
 * its fold's first line (ownerRow).
 */
export class RowMap {
  private readonly hStart: Int32Array;
  private readonly hEnd: Int32Array;
  private readonly ownerRow: Float64Array;
  private readonly hidden: Float64Array;
  /** hStart[k] - H[k]: the row of the first visible index after range k. */
  private readonly cRow: Float64Array;

  constructor(
    readonly folds: FoldList,
    /** First indices of the folds shown open. */
    readonly opened: ReadonlySet<number>,
  ) {
    const s: number[] = [];
    const e: number[] = [];
    const own: number[] = [];
    const rowOfFold = new Float64Array(folds.size);
    let h = 0;
    const hiddenBefore: number[] = [];
    for (let k = 0; k < folds.rBegin.length; k++) {
      const id = folds.rFold[k]!;
      const first = folds.starts[id]!;
      if (opened.has(first)) continue;
      let b = folds.rBegin[k]!;
      // A fold's first range starts at its first line, which every range before it precedes.
      if (b === first) {
        rowOfFold[id] = first - h;
        b++;
      }
      const end = folds.rEnd[k]!;
      if (b >= end) continue;
      s.push(b);
      e.push(end);
      own.push(rowOfFold[id]!);
      hiddenBefore.push(h);
      h += end - b;
    }
    hiddenBefore.push(h);
    this.hStart = Int32Array.from(s);
    this.hEnd = Int32Array.from(e);
    this.ownerRow = Float64Array.from(own);
    this.hidden = Float64Array.from(hiddenBefore);
    this.cRow = Float64Array.from(s, (b, k) => b - hiddenBefore[k]!);
  }

  static identity(): RowMap {
    return new RowMap(FoldList.EMPTY, new Set());
  }

  /** Indices hidden before `index` (ranges cut at it). */
  private hiddenBefore(index: number): number {
    const k = upperBound(this.hStart, index - 1) - 1;
    if (k < 0) return 0;
    return this.hidden[k]! + Math.min(this.hEnd[k]!, index) - this.hStart[k]!;
  }

  /** Rows of a view of `total` indices (indices beyond the folds' view are unfolded). */
  rows(total: number): number {
    // A fold that reaches past `total` (a view that shrank) hides only what exists.
    return Math.max(0, total - this.hiddenBefore(total));
  }

  /** The view index shown at `row` (a closed fold's row shows its first line). */
  indexOfRow(row: number): number {
    const k = upperBound(this.cRow, row) - 1;
    return k < 0 ? row : row + this.hidden[k + 1]!;
  }

  /** The row showing `index` (for an index a closed fold hides, the fold's row). */
  rowOfIndex(index: number): number {
    const k = upperBound(this.hStart, index) - 1;
    if (k < 0) return index;
    if (index < this.hEnd[k]!) return this.ownerRow[k]!;
    return index - this.hidden[k + 1]!;
  }

  /** Whether `index` is hidden (a closed fold's line, not its first). */
  hiddenIndex(index: number): boolean {
    const k = upperBound(this.hStart, index) - 1;
    return k >= 0 && index < this.hEnd[k]!;
  }

  /** The fold that starts at `index`, if any (what a row's toggle shows). */
  foldStartingAt(index: number): FoldInfo | null {
    const id = this.folds.find(index);
    if (id < 0 || this.folds.starts[id] !== index) return null;
    return this.info(id);
  }

  /** The fold holding `index`, if any. */
  foldAt(index: number): FoldInfo | null {
    const id = this.folds.find(index);
    return id < 0 ? null : this.info(id);
  }

  /** The indices a closed fold starting at `index` hides, at most `max` of them; null if no
   * closed fold starts there. */
  hiddenOf(index: number, max: number): number[] | null {
    const id = this.folds.find(index);
    if (id < 0 || this.folds.starts[id] !== index || this.opened.has(index)) return null;
    const out: number[] = [];
    rangesOf(index + 1, this.folds.lengths[id]! - 1, this.folds.holes(id), (b, e) => {
      for (let i = b; i < e && out.length < max; i++) out.push(i);
    });
    return out;
  }

  private info(id: number): FoldInfo {
    const start = this.folds.starts[id]!;
    return {
      start,
      length: this.folds.lengths[id]!,
      lines: this.folds.lines(id),
      kind: this.folds.kind(id),
      open: this.opened.has(start),
    };
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
