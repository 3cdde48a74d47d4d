/**
 * The overlay's geometry, without `vscode` (so the benchmark measures the same
 * code): the trained and masked tokens of a tokenized trace as UTF-16 spans,
 * and each token's line/character positions in one pass over the text.
 */
import { IGNORE_INDEX } from '../core/trace/mask';

export interface OverlaySpans {
  /** [start, end) of every trained kept token, in token order. */
  trained: Array<[number, number]>;
  /** [start, end) of every masked kept token, in token order. */
  masked: Array<[number, number]>;
  /** Four per kept token: start line, start character, end line, end character. */
  positions: Int32Array;
  /** Where max_length cuts the text (end of the last kept token); null when nothing is cut. */
  cutAt: number | null;
}

/**
 * Splits the kept tokens by their label (trained: label = id; masked: -100)
 * and converts their offsets (increasing) to positions.
 */
export function overlaySpans(text: string, offsets: Int32Array, labels: Int32Array, truncated: boolean): OverlaySpans {
  const kept = labels.length;
  const lineStarts: number[] = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  let line = 0;
  const toLine = (offset: number): number => {
    if (offset < lineStarts[line]) line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= offset) line++;
    return line;
  };
  const trained: Array<[number, number]> = [];
  const masked: Array<[number, number]> = [];
  const positions = new Int32Array(kept * 4);
  for (let i = 0; i < kept; i++) {
    const s = offsets[2 * i];
    const e = offsets[2 * i + 1];
    (labels[i] !== IGNORE_INDEX ? trained : masked).push([s, e]);
    const sl = toLine(s);
    positions[4 * i] = sl;
    positions[4 * i + 1] = s - lineStarts[sl];
    const el = toLine(e);
    positions[4 * i + 2] = el;
    positions[4 * i + 3] = e - lineStarts[el];
  }
  const cutAt = truncated && kept > 0 && offsets[2 * kept - 1] < text.length ? offsets[2 * kept - 1] : null;
  return { trained, masked, positions, cutAt };
}
