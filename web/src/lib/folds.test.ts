import { describe, expect, it } from 'vitest';
import { FoldList, RowMap } from './folds';

// Folds at [2,5) (traceback) and [7,10) (repeat) of a 12-line view.
const list = FoldList.fromResult({ start: [2, 7], length: [3, 3], kind: 'tx' });

/** A small deterministic random source: rnd(n) in [0, n). */
function lcg(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
}

/** Brute force: the indices each row shows. */
function rowsOf(map: RowMap, total: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (!map.hiddenIndex(i)) out.push(i);
  return out;
}

describe('RowMap', () => {
  it('maps rows and indices through closed folds', () => {
    const m = new RowMap(list, new Set());
    expect(m.rows(12)).toBe(8);
    expect(rowsOf(m, 12)).toEqual([0, 1, 2, 5, 6, 7, 10, 11]);
    expect([...Array(8).keys()].map((r) => m.indexOfRow(r))).toEqual([0, 1, 2, 5, 6, 7, 10, 11]);
    expect([3, 4].map((i) => m.rowOfIndex(i))).toEqual([2, 2]);
    expect(m.rowOfIndex(10)).toBe(6);
  });

  it('an opened fold shows all its lines', () => {
    const m = new RowMap(list, new Set()).withOpen(2, true);
    expect(m.rows(12)).toBe(10);
    expect([...Array(10).keys()].map((r) => m.indexOfRow(r))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 10, 11]);
    expect(m.foldStartingAt(2)).toMatchObject({ start: 2, kind: 'traceback', open: true, length: 3, lines: 3 });
    expect(m.foldAt(8)).toMatchObject({ start: 7, kind: 'repeat', open: false });
    expect(m.foldStartingAt(3)).toBeNull();
    expect(m.withOpen(2, false).rows(12)).toBe(8);
  });

  it('agrees with brute force on random folds', () => {
    const rnd = lcg(7);
    for (let trial = 0; trial < 50; trial++) {
      const starts: number[] = [];
      const lengths: number[] = [];
      let at = rnd(3);
      while (at < 200) {
        const l = 2 + rnd(6);
        starts.push(at);
        lengths.push(l);
        at += l + rnd(4);
      }
      const total = at + 5;
      const fl = FoldList.fromResult({ start: starts, length: lengths, kind: 'r'.repeat(starts.length) });
      const opened = new Set(starts.filter(() => rnd(2) === 0));
      const m = new RowMap(fl, opened);
      const expected = rowsOf(m, total);
      expect(m.rows(total)).toBe(expected.length);
      expected.forEach((idx, row) => {
        expect(m.indexOfRow(row)).toBe(idx);
        expect(m.rowOfIndex(idx)).toBe(row);
      });
    }
  });

  it('step moves by rows, over closed folds', () => {
    const m = new RowMap(list, new Set());
    expect(m.step(1, 1, 12)).toBe(2);
    expect(m.step(2, 1, 12)).toBe(5);
    expect(m.step(5, -1, 12)).toBe(2);
    expect(m.step(11, 1, 12)).toBe(11);
    expect(m.step(0, -1, 12)).toBe(0);
  });

  it('counts only what exists of a view that is shorter than its folds', () => {
    const m = new RowMap(list, new Set());
    expect(m.rows(4)).toBe(3); // 0, 1, fold row (2..3)
    expect(m.rows(2)).toBe(2);
  });

  it('two ranks interleaved: each fold hides its own lines and the other rank shows between', () => {
    // Rank 0's traceback at 2, 4, 6, rank 1's at 3, 5, 7 of a 10-line view.
    const fl = FoldList.fromResult({ start: [2, 3], length: [5, 5], kind: 'tt', holes: { fold: [0, 0, 1, 1], at: [3, 5, 4, 6] } });
    expect(fl.size).toBe(2);
    expect([2, 3, 4, 5, 6, 7, 8].map((i) => fl.find(i))).toEqual([0, 1, 0, 1, 0, 1, -1]);
    const closed = new RowMap(fl, new Set());
    expect(rowsOf(closed, 10)).toEqual([0, 1, 2, 3, 8, 9]);
    expect(closed.rows(10)).toBe(6);
    expect([4, 6].map((i) => closed.rowOfIndex(i))).toEqual([2, 2]);
    expect([5, 7].map((i) => closed.rowOfIndex(i))).toEqual([3, 3]);
    expect(closed.foldStartingAt(3)).toMatchObject({ start: 3, length: 5, lines: 3, open: false });
    expect(closed.hiddenOf(2, 100)).toEqual([4, 6]);
    expect(closed.hiddenOf(3, 1)).toEqual([5]);
    // Rank 0's open: its lines show, rank 1's stay hidden; rank 1's row follows rank 0's first.
    const one = closed.withOpen(2, true);
    expect(rowsOf(one, 10)).toEqual([0, 1, 2, 3, 4, 6, 8, 9]);
    expect(one.hiddenOf(2, 100)).toBeNull();
    expect(one.foldAt(4)).toMatchObject({ start: 2, open: true });
    expect(one.foldAt(8)).toBeNull();
    // A line of another writer inside one fold (a hole) is its own row, in no fold.
    const single = new RowMap(FoldList.fromResult({ start: [0], length: [4], kind: 't', holes: { fold: [0], at: [1] } }), new Set());
    expect(rowsOf(single, 5)).toEqual([0, 1, 4]);
    expect(single.foldAt(1)).toBeNull();
    expect(single.hiddenIndex(1)).toBe(false);
  });

  it('agrees with brute force on random interleaved folds', () => {
    const rnd = lcg(11);
    for (let trial = 0; trial < 100; trial++) {
      // Each index goes to one of 3 writers' folds or to none; a fold is one writer's run of
      // lines, ended at random.
      const total = 60 + rnd(100);
      const owner: number[] = Array(total).fill(-1);
      const members: number[][] = [];
      const current = [-1, -1, -1];
      for (let i = 0; i < total; i++) {
        const w = rnd(4);
        if (w === 3) continue;
        if (current[w] === -1 || rnd(5) === 0) {
          current[w] = members.length;
          members.push([]);
        }
        members[current[w]!]!.push(i);
        owner[i] = current[w]!;
      }
      const folds = members.map((m, id) => ({ m, id })).filter((f) => f.m.length >= 2);
      folds.sort((a, b) => a.m[0]! - b.m[0]!);
      const holeFold: number[] = [];
      const holeAt: number[] = [];
      folds.forEach((f, k) => {
        for (let i = f.m[0]!; i <= f.m[f.m.length - 1]!; i++) if (owner[i] !== f.id) (holeFold.push(k), holeAt.push(i));
      });
      const fl = FoldList.fromResult({
        start: folds.map((f) => f.m[0]!),
        length: folds.map((f) => f.m[f.m.length - 1]! - f.m[0]! + 1),
        kind: 'r'.repeat(folds.length),
        holes: { fold: holeFold, at: holeAt },
      });
      expect(fl.size).toBe(folds.length);
      const opened = new Set(folds.filter(() => rnd(2) === 0).map((f) => f.m[0]!));
      const m = new RowMap(fl, opened);
      // Brute force: hidden = members of closed folds but their first.
      const hidden = new Set(folds.filter((f) => !opened.has(f.m[0]!)).flatMap((f) => f.m.slice(1)));
      const expected = [...Array(total).keys()].filter((i) => !hidden.has(i));
      expect(rowsOf(m, total)).toEqual(expected);
      expect(m.rows(total)).toBe(expected.length);
      expected.forEach((idx, row) => {
        expect(m.indexOfRow(row)).toBe(idx);
        expect(m.rowOfIndex(idx)).toBe(row);
      });
      for (const f of folds) {
        const row = m.rowOfIndex(f.m[0]!);
        for (const i of f.m) expect(m.foldAt(i)?.start).toBe(f.m[0]);
        if (!opened.has(f.m[0]!)) {
          for (const i of f.m) expect(m.rowOfIndex(i)).toBe(row);
          expect(m.hiddenOf(f.m[0]!, 1e9)).toEqual(f.m.slice(1));
        }
      }
      const cut = rnd(total);
      expect(m.rows(cut)).toBe(expected.filter((i) => i < cut).length);
    }
  });

  it('identity and malformed answers fold nothing', () => {
    expect(RowMap.identity().rows(5)).toBe(5);
    expect(RowMap.identity().indexOfRow(3)).toBe(3);
    const bad = FoldList.fromResult({ start: [0, 1, 5], length: [3, 2, 1], kind: 'rrr' });
    expect(bad.size).toBe(1); // overlapping and one-line folds dropped
    // Holes outside the span, at its ends, or leaving one line; folds sharing a line.
    const holes = (fold: number[], at: number[]) => ({ fold, at });
    expect(FoldList.fromResult({ start: [0], length: [4], kind: 't', holes: holes([0], [3]) }).size).toBe(0);
    expect(FoldList.fromResult({ start: [0], length: [4], kind: 't', holes: holes([0], [7]) }).size).toBe(0);
    expect(FoldList.fromResult({ start: [0], length: [3], kind: 't', holes: holes([0], [1]) }).size).toBe(1);
    expect(FoldList.fromResult({ start: [0], length: [3], kind: 't', holes: holes([0, 0], [1, 1]) }).size).toBe(0);
    const shared = FoldList.fromResult({ start: [0, 1], length: [4, 4], kind: 'tt', holes: holes([0, 1], [1, 2]) });
    expect(shared.size).toBe(1); // 2 and 3 in both: the second dropped
    expect(shared.starts[0]).toBe(0);
  });
});
