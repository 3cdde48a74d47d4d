/**
 * Offset → token lookups over token offsets stored two per token
 * ([start, end) in UTF-16 units, ascending): the one binary search shared by
 * the mask layout, the editor's hovers and the workbench's token overlay.
 * No imports, so webviews can use it too.
 */

/** First token index i in [0, n) with start(i) >= pos: the first token starting at or after pos. */
export function firstTokenStartingAtOrAfter(offsets: ArrayLike<number>, pos: number, n = offsets.length >> 1): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[2 * mid] < pos) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** First token index i in [0, n) with end(i) > pos: the first token that reaches past pos. */
export function firstTokenEndingAfter(offsets: ArrayLike<number>, pos: number, n = offsets.length >> 1): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[2 * mid + 1] <= pos) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Index of the token containing offset `at`, or -1 (past the end, or in a gap between tokens). */
export function tokenAt(offsets: ArrayLike<number>, at: number): number {
  const i = firstTokenEndingAfter(offsets, at);
  return i < offsets.length >> 1 && offsets[2 * i] <= at ? i : -1;
}
