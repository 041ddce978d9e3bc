import { describe, expect, it } from 'vitest';
import {
  atBottom,
  clampTop,
  isScaled,
  MAX_SCROLL_PX,
  maxTop,
  movedByUser,
  scrollTopFor,
  spacerHeight,
  topFor,
  topToReveal,
  windowFor,
  type ScrollGeometry,
} from './scroll_map';

const small: ScrollGeometry = { rows: 1000, rowHeight: 20, viewportHeight: 400 };
const huge: ScrollGeometry = { rows: 10_000_000, rowHeight: 18, viewportHeight: 600 };

describe('scroll map', () => {
  it('is plain scrolling when rows fit', () => {
    expect(isScaled(small)).toBe(false);
    expect(spacerHeight(small)).toBe(20_000);
    expect(maxTop(small)).toBe(980);
    expect(scrollTopFor(10, small)).toBeCloseTo(200);
    expect(topFor(200, small)).toBeCloseTo(10);
  });

  it('caps the spacer and still spans every row', () => {
    expect(isScaled(huge)).toBe(true);
    expect(spacerHeight(huge)).toBe(MAX_SCROLL_PX);
    expect(scrollTopFor(0, huge)).toBe(0);
    expect(scrollTopFor(maxTop(huge), huge)).toBeCloseTo(MAX_SCROLL_PX - 600);
    expect(topFor(MAX_SCROLL_PX - 600, huge)).toBeCloseTo(maxTop(huge));
    // round trip at an arbitrary row
    const top = 7_654_321;
    expect(topFor(scrollTopFor(top, huge), huge)).toBeCloseTo(top, 3);
    // the middle of the scrollbar is the middle of the run
    expect(topFor((MAX_SCROLL_PX - 600) / 2, huge)).toBeCloseTo(maxTop(huge) / 2);
  });

  it('handles empty and short views', () => {
    const empty = { rows: 0, rowHeight: 18, viewportHeight: 600 };
    expect(maxTop(empty)).toBe(0);
    expect(spacerHeight(empty)).toBe(600);
    expect(scrollTopFor(5, empty)).toBe(0);
    expect(topFor(100, empty)).toBe(0);
    expect(windowFor(0, empty)).toEqual({ first: 0, end: 0, offset: 0 });
    const short = { rows: 5, rowHeight: 18, viewportHeight: 600 };
    expect(windowFor(0, short)).toEqual({ first: 0, end: 5, offset: 0 });
    expect(atBottom(0, short)).toBe(true);
  });

  it('clamps and computes windows with fractional offsets', () => {
    expect(clampTop(-5, small)).toBe(0);
    expect(clampTop(5000, small)).toBe(980);
    expect(clampTop(NaN, small)).toBe(0);
    const w = windowFor(10.5, small);
    expect(w.first).toBe(10);
    expect(w.end).toBe(10 + 20 + 2);
    expect(w.offset).toBeCloseTo(10);
    expect(windowFor(980, small).end).toBe(1000);
  });

  it('knows the bottom and reveals rows', () => {
    expect(atBottom(980, small)).toBe(true);
    expect(atBottom(970, small)).toBe(false);
    expect(topToReveal(500, small)).toBe(500 - 6);
    expect(topToReveal(2, small)).toBe(0);
    expect(topToReveal(999, small)).toBe(980);
  });
});

describe('movedByUser', () => {
  const last = { scrollTop: 5000, maxScroll: 20_000 };
  it('is false when the scroller is where the viewer left it', () => {
    expect(movedByUser(last, 5000, 20_000)).toBe(false);
    expect(movedByUser(last, 5000.6, 20_000)).toBe(false);
  });
  it('is true for a move the viewer did not make', () => {
    expect(movedByUser(last, 0, 20_000)).toBe(true);
    expect(movedByUser(last, 19_000, 25_000)).toBe(true);
    // the spacer shrank but the new position is not its maximum: not a clamp
    expect(movedByUser(last, 100, 3000)).toBe(true);
  });
  it('is false when the browser clamped it to a shorter spacer', () => {
    expect(movedByUser(last, 3000, 3000)).toBe(false);
    expect(movedByUser({ scrollTop: 20_000, maxScroll: 20_000 }, 19_400, 19_400)).toBe(false);
  });
});
