// The arithmetic of a virtualised list with a fixed row height: which rows
// are on screen, and where to scroll to bring one into view.

/** The item list's fixed row height in pixels: everything below depends on it. */
export const ROW_HEIGHT = 52;
/** Rows rendered above and below the visible ones. */
export const OVERSCAN = 6;
/** Viewport height used until it has been measured (and in tests, which have no layout). */
export const FALLBACK_VIEWPORT = 640;

export interface RowRange {
  /** First row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
}

export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan: number,
): RowRange {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(first, total - 1) - overscan);
  const end = Math.min(total, first + visible + overscan);
  return { start, end };
}

/** The scrollTop that shows row `index` with the least movement. */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}
