import { describe, expect, it } from 'vitest';
import type { LogLine } from '../api/types';
import { LineCache, MAX_GAP, PAGE, planFetch, planFromAnchor, searchAnchor, storeFetched, wantedRange } from './line_window';

const mk = (n: number): LogLine => ({
  run_id: 'r',
  line_number: n,
  timestamp: '2024-01-01T00:00:00Z',
  level: 'INFO',
  source: 'stdout',
  writer: 'main',
  message: `line ${n}`,
});
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => mk(a + i));

describe('LineCache', () => {
  it('stores across page boundaries and reports missing runs', () => {
    const c = new LineCache();
    expect(c.isEmpty()).toBe(true);
    c.set(PAGE - 2, range(1, 6));
    expect(c.isEmpty()).toBe(false);
    expect(c.get(PAGE - 2)!.line_number).toBe(1);
    expect(c.get(PAGE + 2)!.line_number).toBe(5);
    expect(c.missing(PAGE - 4, PAGE + 5)).toEqual([
      [PAGE - 4, PAGE - 2],
      [PAGE + 3, PAGE + 5],
    ]);
    expect(c.missing(PAGE - 2, PAGE + 3)).toEqual([]);
    expect(c.size()).toBe(5);
  });

  it('evicts least recently used pages and stays bounded', () => {
    const c = new LineCache(3);
    for (let p = 0; p < 3; p++) c.set(p * PAGE, [mk(p)]);
    c.touch(0, 1); // page 0 is now the most recent
    c.set(3 * PAGE, [mk(3)]);
    expect(c.has(0)).toBe(true);
    expect(c.has(PAGE)).toBe(false);
    c.set(0, range(1, 20 * PAGE));
    expect(c.size()).toBeLessThanOrEqual(3 * PAGE);
  });

  it('finds brackets and lines', () => {
    const c = new LineCache();
    c.set(100, [mk(1000), mk(1005)]);
    c.set(5000, [mk(9000)]);
    expect(c.bracket(2000)).toEqual({ below: { index: 101, line: 1005 }, above: { index: 5000, line: 9000 } });
    expect(c.bracket(50)).toEqual({ below: null, above: { index: 100, line: 1000 } });
    expect(c.findLine(9000)).toEqual({ index: 5000, line: 9000 });
    expect(c.findLine(1)).toBeNull();
    c.clear();
    expect(c.size()).toBe(0);
  });
});

describe('planFetch', () => {
  it('computes line numbers directly in the unfiltered view', () => {
    expect(planFetch(500, 1000, { unfiltered: true, firstLine: 11 }, new LineCache())).toEqual({
      kind: 'asc',
      afterLine: 510,
      limit: 500,
      startIndex: 500,
    });
  });

  it('reads on from a near anchor below, or back from one above', () => {
    const c = new LineCache();
    c.set(1000, [mk(7000)]);
    expect(planFetch(1001, 1500, { unfiltered: false, firstLine: 1 }, c)).toEqual({
      kind: 'asc',
      afterLine: 7000,
      limit: 499,
      startIndex: 1001,
    });
    expect(planFetch(600, 1000, { unfiltered: false, firstLine: 1 }, c)).toEqual({
      kind: 'desc',
      beforeLine: 7000,
      limit: 400,
      endIndex: 1000,
    });
    expect(planFetch(1000 + MAX_GAP + 10, 1000 + MAX_GAP + 100, { unfiltered: false, firstLine: 1 }, c).kind).toBe('search');
  });

  it('stores desc pages in ascending index order', () => {
    const c = new LineCache();
    storeFetched(c, { kind: 'desc', beforeLine: 50, limit: 3, endIndex: 10 }, [mk(49), mk(48), mk(47)]);
    expect(c.get(7)!.line_number).toBe(47);
    expect(c.get(9)!.line_number).toBe(49);
    storeFetched(c, planFromAnchor({ index: 20, line: 100 }, 22), [mk(100), mk(104)]);
    expect(c.get(21)!.line_number).toBe(104);
  });
});

describe('searchAnchor', () => {
  // A filtered view over 1,000,000 lines where every 7th line matches, plus a dense burst.
  const matches: number[] = [];
  for (let n = 1; n <= 1_000_000; n++) if (n % 7 === 0 || (n > 900_000 && n < 905_000)) matches.push(n);
  const locate = (line: number) => {
    let lo = 0;
    let hi = matches.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (matches[mid]! < line) lo = mid + 1;
      else hi = mid;
    }
    return Promise.resolve(lo);
  };

  it('converges within MAX_GAP of any target in few steps', async () => {
    for (const target of [0, 10, 50_000, 100_000, 130_000, matches.length - 1]) {
      const { anchor, steps } = await searchAnchor(
        target,
        { index: 0, line: 1 },
        { index: matches.length, line: 1_000_001 },
        locate,
      );
      expect(anchor.index).toBeLessThanOrEqual(target);
      expect(target - anchor.index).toBeLessThan(MAX_GAP);
      expect(await locate(anchor.line)).toBe(anchor.index);
      expect(steps).toBeLessThan(25);
    }
  });
});

describe('wantedRange', () => {
  it('covers the window plus page padding near edges, clamped to total', () => {
    expect(wantedRange(510, 540, 10_000)).toEqual([0, 1000]);
    expect(wantedRange(700, 740, 10_000)).toEqual([500, 1000]);
    expect(wantedRange(700, 990, 10_000)).toEqual([500, 1500]);
    expect(wantedRange(0, 30, 20)).toEqual([0, 20]);
  });
});
