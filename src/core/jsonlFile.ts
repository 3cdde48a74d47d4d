/**
 * Streaming JSONL file reading for large inputs (s1K-1.1 with its long
 * chains, student drafts). Lines are classified exactly as parseJsonl does.
 */
import { promises as fs } from 'node:fs';
import { classifyJsonlLine, type JsonlRow } from './jsonl';

const READ_CHUNK = 1 << 20;

/**
 * Calls onRow for each non-blank line of a JSONL file, in order. Bytes are
 * read into one reused buffer and decoded a line at a time, so the file never
 * becomes one giant string and each line's string dies young; this keeps a
 * big import off fresh memory, which is slow to touch on this project's VMs.
 * A leading UTF-8 byte-order mark is skipped; "\r\n" endings are accepted.
 */
export async function forEachJsonlRow<T = unknown>(file: string, onRow: (row: JsonlRow<T>) => void): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    let start = 0; // where the current, unfinished line begins in buf
    let end = 0; // bytes of buf in use
    let line = 0;
    const emit = (from: number, to: number): void => {
      line++;
      if (to > from && buf[to - 1] === 0x0d) to--;
      if (line === 1 && to - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) from += 3;
      const row = classifyJsonlLine<T>(buf.toString('utf8', from, to), line);
      if (row) onRow(row);
    };
    for (;;) {
      if (start > 0) { buf.copy(buf, 0, start, end); end -= start; start = 0; }
      if (end === buf.length) { // one line longer than the buffer: grow it
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, end);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, end, buf.length - end, null);
      if (bytesRead === 0) break;
      const scanFrom = end;
      end += bytesRead;
      const filled = buf.subarray(0, end);
      for (let nl = filled.indexOf(0x0a, scanFrom); nl >= 0; nl = filled.indexOf(0x0a, nl + 1)) {
        emit(start, nl);
        start = nl + 1;
      }
    }
    if (end > start) emit(start, end);
  } finally {
    await handle.close();
  }
}
