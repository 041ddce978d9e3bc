// Virtual offset mapping for a scrollbar that spans any number of rows.
//
// Browsers cap an element's height (Chromium ~33.5M px, Firefox ~17.9M px), so 10M rows of 18 px
// cannot be laid out. The viewer keeps its position as `top`, a fractional row index (the row at
// the top edge of the viewport), and maps it linearly onto a spacer of at most MAX_SCROLL_PX:
//
//   scrollTop = top / maxTop * (spacerHeight - viewportHeight)
//
// When the rows fit (rows * rowHeight <= MAX_SCROLL_PX) the ratio is exactly rowHeight, i.e. plain
// scrolling. When they do not, the scrollbar thumb still spans the whole run (dragging it reaches
// any line), while wheel and keyboard scrolling are applied to `top` in rows, never in scaled
// pixels, so one wheel notch moves the same few lines at 100 or at 10M lines.

export const MAX_SCROLL_PX = 8_000_000;

export interface ScrollGeometry {
  rows: number;
  rowHeight: number;
  viewportHeight: number;
}

/** Rows that fit in the viewport (fractional). */
export function visibleRows(g: ScrollGeometry): number {
  return g.rowHeight > 0 ? g.viewportHeight / g.rowHeight : 0;
}

/** The largest `top`: the last row sits at the bottom edge. */
export function maxTop(g: ScrollGeometry): number {
  return Math.max(0, g.rows - visibleRows(g));
}

export function spacerHeight(g: ScrollGeometry): number {
  return Math.max(g.viewportHeight, Math.min(g.rows * g.rowHeight, MAX_SCROLL_PX));
}

export function isScaled(g: ScrollGeometry): boolean {
  return g.rows * g.rowHeight > MAX_SCROLL_PX;
}

export function clampTop(top: number, g: ScrollGeometry): number {
  if (!Number.isFinite(top)) return 0;
  return Math.min(Math.max(0, top), maxTop(g));
}

export function scrollTopFor(top: number, g: ScrollGeometry): number {
  const mt = maxTop(g);
  const range = spacerHeight(g) - g.viewportHeight;
  if (mt <= 0 || range <= 0) return 0;
  return (clampTop(top, g) / mt) * range;
}

export function topFor(scrollTop: number, g: ScrollGeometry): number {
  const mt = maxTop(g);
  const range = spacerHeight(g) - g.viewportHeight;
  if (mt <= 0 || range <= 0) return 0;
  return clampTop((scrollTop / range) * mt, g);
}

/** Whether `top` is at the bottom (within a fraction of a row). */
export function atBottom(top: number, g: ScrollGeometry): boolean {
  return top >= maxTop(g) - 0.5;
}

/** The rows to render for `top`: [first, end), with `overscan` extra rows below. */
export function windowFor(top: number, g: ScrollGeometry, overscan = 2): { first: number; end: number; offset: number } {
  const t = clampTop(top, g);
  const first = Math.floor(t);
  const end = Math.min(g.rows, first + Math.ceil(visibleRows(g)) + overscan);
  return { first, end, offset: (t - first) * g.rowHeight };
}

/** The `top` that puts row `index` at about a third of the viewport. */
export function topToReveal(index: number, g: ScrollGeometry): number {
  return clampTop(index - Math.floor(visibleRows(g) / 3), g);
}

/** The scroller's position as the viewer last left it (after a render). */
export interface ScrollSync {
  scrollTop: number;
  /** scrollHeight - clientHeight at that moment. */
  maxScroll: number;
}

/**
 * Whether the scroller moved since `last` because the user moved it, rather than because the
 * browser clamped it (a shorter spacer or a taller viewport puts scrollTop at the new maximum).
 * A scroll event arrives a frame after the move; a render in between (a page of lines arriving)
 * must take the user's position, not put the old one back and then ignore the event as its own.
 */
export function movedByUser(last: ScrollSync, scrollTop: number, maxScroll: number): boolean {
  if (Math.abs(scrollTop - last.scrollTop) <= 1) return false;
  const clamped = maxScroll < last.maxScroll - 1 && scrollTop >= maxScroll - 1;
  return !clamped;
}
