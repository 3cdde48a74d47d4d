/**
 * Streaming JSONL file reading for large inputs (s1K-1.1 with its long
 * chains, student drafts). Lines are classified exactly as parseJsonl does.
 */
import { promises as fs } from 'node:fs';
import { classifyJsonlBytes, MAX_LINE_BYTES, tooLongRow, type JsonlRow } from './jsonl';

const READ_CHUNK = 1 << 20;

/**
 * Calls onRow for each non-blank line of a JSONL file, in order. Bytes are
 * read into one reused buffer and decoded a line at a time, so the file never
 * becomes one giant string and each line's string dies young; this keeps a
 * big import off fresh memory, which is slow to touch on this project's VMs.
 * A leading UTF-8 byte-order mark is skipped; "\r\n" endings are accepted;
 * invalid UTF-8 and overlong lines are error rows (classifyJsonlBytes).
 *
 * The buffer grows to hold one line of up to MAX_LINE_BYTES and no further: a
 * longer line is counted and skipped to its newline, never held, so a hostile
 * file cannot make the reader take more memory than the limit and one read.
 */
export async function forEachJsonlRow<T = unknown>(file: string, onRow: (row: JsonlRow<T>) => void): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    let start = 0; // where the current, unfinished line begins in buf
    let end = 0; // bytes of buf in use
    let base = 0; // file offset of buf[0]
    let skipping: OverlongLine | null = null; // a line past the limit, being skipped
    const line = { n: 0 };
    for (;;) {
      if (skipping) { base += end; start = end = 0; } // its bytes so far are counted: drop them
      else if (start > 0) { buf.copy(buf, 0, start, end); end -= start; base += start; start = 0; }
      if (end === buf.length) { // the line fills the buffer
        if (end > MAX_LINE_BYTES) {
          skipping = overlong(buf, end, base, line.n === 0);
          base += end; start = end = 0;
        } else {
          // Straight to the largest size: doubling would leave a trail of dead buffers, and
          // pages of an unsafe allocation only count once a read touches them.
          const bigger = Buffer.allocUnsafe(MAX_BUFFER);
          buf.copy(bigger, 0, 0, end);
          buf = bigger;
        }
      }
      const { bytesRead } = await handle.read(buf, end, buf.length - end, null);
      if (bytesRead === 0) break;
      const scanFrom = end;
      end += bytesRead;
      const filled = buf.subarray(0, end);
      let nl = filled.indexOf(0x0a, scanFrom);
      if (skipping) {
        if (nl < 0) { skipping.bytes += bytesRead; skipping.last = buf[end - 1]; continue; }
        skipping.bytes += nl;
        if (nl > 0) skipping.last = buf[nl - 1];
        emitOverlong(skipping, line, onRow);
        skipping = null;
        start = nl + 1;
        nl = filled.indexOf(0x0a, start);
      }
      for (; nl >= 0; nl = filled.indexOf(0x0a, nl + 1)) {
        emitLine(buf, start, nl, base, line, onRow);
        start = nl + 1;
      }
    }
    if (skipping) emitOverlong(skipping, line, onRow);
    else if (end > start) emitLine(buf, start, end, base, line, onRow);
  } finally {
    await handle.close();
  }
}

/** The largest read buffer: a line at the limit plus one read. */
const MAX_BUFFER = MAX_LINE_BYTES + READ_CHUNK;

/** A line over MAX_LINE_BYTES: where it starts in the file, its bytes so far and its last byte (a "\r" before the newline is not counted). */
interface OverlongLine { from: number; bytes: number; last: number; bom: number }

/** The overlong line that fills buf[0, end), which starts at file offset `base`. */
function overlong(buf: Buffer, end: number, base: number, firstLine: boolean): OverlongLine {
  const bom = firstLine && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return { from: base, bytes: end, last: buf[end - 1], bom };
}

/** The too-long row of a skipped line, with the size and offset emitLine would give it. */
function emitOverlong<T>(l: OverlongLine, line: { n: number }, onRow: (row: JsonlRow<T>) => void): void {
  line.n++;
  onRow(tooLongRow(l.bytes - l.bom - (l.last === 0x0d ? 1 : 0), line.n, l.from + l.bom));
}

/** Calls onRow for each non-blank line of JSONL bytes already in memory; the same rows as forEachJsonlRow on a file of these bytes. */
export function forEachJsonlRowInBuffer<T = unknown>(buf: Buffer, onRow: (row: JsonlRow<T>) => void): void {
  const line = { n: 0 };
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    emitLine(buf, start, nl, 0, line, onRow);
    start = nl + 1;
  }
  if (buf.length > start) emitLine(buf, start, buf.length, 0, line, onRow);
}

/** One line buf[from, to) ("\r\n" and, on line 1, a byte-order mark stripped); `line.n` counts every line, blank ones too. */
function emitLine<T>(buf: Buffer, from: number, to: number, base: number, line: { n: number }, onRow: (row: JsonlRow<T>) => void): void {
  line.n++;
  if (to > from && buf[to - 1] === 0x0d) to--;
  if (line.n === 1 && to - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) from += 3;
  const row = classifyJsonlBytes<T>(buf, from, to, line.n, base);
  if (row) onRow(row);
}
