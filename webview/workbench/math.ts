/**
 * Cuts sample text into plain text and LaTeX math, for KaTeX. Pure (no DOM),
 * so unit tests run it under Node.
 *
 * Delimiters: `$$…$$`, `\[…\]`, `\(…\)`, `\begin{equation|align|gather|multline}[*]…\end{…}`
 * (display), and `$…$` (inline) with Pandoc's rules: the opening `$` has a
 * non-space right after it, the closing one a non-space right before it and
 * no digit after it, and an inline formula does not span a blank line. An
 * escaped `\$` is text. Unclosed delimiters are text.
 */

export type MathSegment = { kind: 'text'; text: string } | { kind: 'math'; tex: string; display: boolean; raw: string };

const ENV = /\\begin\{(equation|align|aligned|gather|multline|eqnarray)(\*?)\}/y;

function findClose(text: string, from: number, close: string): number {
  let i = text.indexOf(close, from);
  while (i > 0 && close[0] !== '\\' && text[i - 1] === '\\') i = text.indexOf(close, i + 1);
  return i;
}

function isSpace(c: string | undefined): boolean {
  return c === undefined || /\s/.test(c);
}

export function splitMath(text: string, maxMathChars = 4000): MathSegment[] {
  const out: MathSegment[] = [];
  let textStart = 0;
  const pushText = (end: number): void => { if (end > textStart) out.push({ kind: 'text', text: text.slice(textStart, end) }); };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$' && c !== '\\') { i++; continue; }
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '$' || next === '\\') { i += 2; continue; }
      let open = '', close = '', display = false, inner = 0;
      if (next === '[') { open = '\\['; close = '\\]'; display = true; }
      else if (next === '(') { open = '\\('; close = '\\)'; }
      else if (next === 'b') {
        ENV.lastIndex = i;
        const m = ENV.exec(text);
        if (m) {
          const end = text.indexOf(`\\end{${m[1]}${m[2]}}`, i + m[0].length);
          if (end >= 0) {
            const stop = end + `\\end{${m[1]}${m[2]}}`.length;
            if (stop - i <= maxMathChars) {
              pushText(i);
              out.push({ kind: 'math', tex: text.slice(i, stop), display: true, raw: text.slice(i, stop) });
              i = textStart = stop;
              continue;
            }
          }
        }
        i++;
        continue;
      } else { i++; continue; }
      inner = i + open.length;
      const end = findClose(text, inner, close);
      if (end < 0 || end - inner > maxMathChars || !text.slice(inner, end).trim()) { i += 2; continue; }
      pushText(i);
      out.push({ kind: 'math', tex: text.slice(inner, end), display, raw: text.slice(i, end + close.length) });
      i = textStart = end + close.length;
      continue;
    }
    // c === '$'
    if (text[i + 1] === '$') {
      const end = findClose(text, i + 2, '$$');
      if (end < 0 || end - i > maxMathChars || !text.slice(i + 2, end).trim()) { i += 2; continue; }
      pushText(i);
      out.push({ kind: 'math', tex: text.slice(i + 2, end), display: true, raw: text.slice(i, end + 2) });
      i = textStart = end + 2;
      continue;
    }
    if (isSpace(text[i + 1])) { i++; continue; }
    let j = i + 1;
    let found = -1;
    while (j < text.length && j - i <= maxMathChars) {
      const d = text[j];
      if (d === '\\') { j += 2; continue; }
      if (d === '\n' && text[j + 1] === '\n') break;
      if (d === '$') {
        if (!isSpace(text[j - 1]) && !/[0-9]/.test(text[j + 1] ?? '')) { found = j; }
        break;
      }
      j++;
    }
    if (found < 0) { i++; continue; }
    pushText(i);
    out.push({ kind: 'math', tex: text.slice(i + 1, found), display: false, raw: text.slice(i, found + 1) });
    i = textStart = found + 1;
  }
  pushText(text.length);
  return out;
}
