/**
 * The one streaming JSONL reader: every corpus command (stats, render, tokens,
 * pack, export, plan, contamination, the audit, the index of
 * src/core/io/corpusIndex.ts) and the importers read files through
 * forEachJsonlRow, so memory is bounded by the longest line, never by the
 * file. Lines are classified exactly as parseJsonl does, and each row comes
 * with its byte span in the file (the index's seek targets).
 */
import { promises as fs } from 'node:fs';
import { classifyJsonlBytes, MAX_LINE_BYTES, tooLongRow, type JsonlRow } from './jsonl';

const READ_CHUNK = 1 << 20;

/** Where a row's line lies in the file: bytes [offset, end), its terminator ("\n" or "\r\n") and a line-1 byte-order mark excluded. */
export interface LineSpan {
  offset: number;
  end: number;
  /** The line's bytes [offset, end): a view into the read buffer, valid only during the callback (empty for an overlong line). */
  bytes: Buffer;
}

export interface JsonlReadOptions {
  /** Bytes per read (default 1 MiB); tests use a few bytes so that lines, "\r\n" and UTF-8 sequences straddle reads. */
  chunkBytes?: number;
  /** Called with every chunk of the file's bytes, in order (a running hash of exactly what was read). */
  onBytes?: (chunk: Buffer) => void;
}

/** A row callback; a returned promise is awaited before the next line is read (back-pressure: batches of tokenization). */
export type OnJsonlRow<T> = (row: JsonlRow<T>, span: LineSpan) => unknown;

const isPromise = (x: unknown): x is Promise<unknown> => x instanceof Promise;

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
export async function forEachJsonlRow<T = unknown>(file: string, onRow: OnJsonlRow<T>, opts: JsonlReadOptions = {}): Promise<void> {
  const chunk = Math.max(1, opts.chunkBytes ?? READ_CHUNK);
  const handle = await fs.open(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(Math.min(chunk, MAX_BUFFER));
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
      const { bytesRead } = await handle.read(buf, end, Math.min(chunk, buf.length - end), null);
      if (bytesRead === 0) break;
      opts.onBytes?.(buf.subarray(end, end + bytesRead));
      const scanFrom = end;
      end += bytesRead;
      const filled = buf.subarray(0, end);
      let nl = filled.indexOf(0x0a, scanFrom);
      if (skipping) {
        if (nl < 0) { skipping.bytes += bytesRead; skipping.last = buf[end - 1]; continue; }
        skipping.bytes += nl;
        if (nl > 0) skipping.last = buf[nl - 1];
        const p = emitOverlong(skipping, line, onRow);
        if (isPromise(p)) await p;
        skipping = null;
        start = nl + 1;
        nl = filled.indexOf(0x0a, start);
      }
      for (; nl >= 0; nl = filled.indexOf(0x0a, nl + 1)) {
        const p = emitLine(buf, start, nl, base, line, onRow);
        if (isPromise(p)) await p; // buf is not touched while the caller works
        start = nl + 1;
      }
    }
    if (skipping) await emitOverlong(skipping, line, onRow);
    else if (end > start) await emitLine(buf, start, end, base, line, onRow);
  } finally {
    await handle.close();
  }
}

const EMPTY = Buffer.alloc(0);

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
function emitOverlong<T>(l: OverlongLine, line: { n: number }, onRow: OnJsonlRow<T>): unknown {
  line.n++;
  const bytes = l.bytes - l.bom - (l.last === 0x0d ? 1 : 0);
  return onRow(tooLongRow(bytes, line.n, l.from + l.bom), { offset: l.from + l.bom, end: l.from + l.bom + bytes, bytes: EMPTY });
}

/** Calls onRow for each non-blank line of JSONL bytes already in memory; the same rows as forEachJsonlRow on a file of these bytes. */
export function forEachJsonlRowInBuffer<T = unknown>(buf: Buffer, onRow: (row: JsonlRow<T>, span: LineSpan) => void): void {
  const line = { n: 0 };
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    emitLine(buf, start, nl, 0, line, onRow);
    start = nl + 1;
  }
  if (buf.length > start) emitLine(buf, start, buf.length, 0, line, onRow);
}

/** One line buf[from, to) ("\r\n" and, on line 1, a byte-order mark stripped); `line.n` counts every line, blank ones too. */
function emitLine<T>(buf: Buffer, from: number, to: number, base: number, line: { n: number }, onRow: OnJsonlRow<T>): unknown {
  line.n++;
  if (to > from && buf[to - 1] === 0x0d) to--;
  if (line.n === 1 && to - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) from += 3;
  const row = classifyJsonlBytes<T>(buf, from, to, line.n, base);
  return row ? onRow(row, { offset: base + from, end: base + to, bytes: buf.subarray(from, to) }) : undefined;
}
