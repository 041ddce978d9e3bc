import { describe, expect, it } from 'vitest';
import { FoldList, RowMap } from './folds';

// Folds at [2,5) (traceback) and [7,10) (repeat) of a 12-line view.
const list = FoldList.fromResult({ start: [2, 7], length: [3, 3], kind: 'tx' });

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
    expect(m.foldStartingAt(2)).toMatchObject({ start: 2, kind: 'traceback', open: true, length: 3 });
    expect(m.foldAt(8)).toMatchObject({ start: 7, kind: 'repeat', open: false });
    expect(m.foldStartingAt(3)).toBeNull();
    expect(m.withOpen(2, false).rows(12)).toBe(8);
  });

  it('agrees with brute force on random folds', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
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

  it('identity and malformed answers fold nothing', () => {
    expect(RowMap.identity().rows(5)).toBe(5);
    expect(RowMap.identity().indexOfRow(3)).toBe(3);
    const bad = FoldList.fromResult({ start: [0, 1, 5], length: [3, 2, 1], kind: 'rrr' });
    expect(bad.size).toBe(1); // overlapping and one-line folds dropped
  });
});
