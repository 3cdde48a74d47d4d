/**
 * Small, allocation-light helpers for scanning LaTeX text: brace matching that
 * respects escapes (`\{`, `\}`), command-argument reading and unwrapping.
 */

/** Index of the `}` matching the `{` at `open`, or -1 when unbalanced. `\{` and `\}` do not count. */
export function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) { i++; continue; }
    if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) { depth--; if (depth === 0) return i; }
  }
  return -1;
}

/** Index of the closing bracket matching the opener at `open` for any of ( [ { ; -1 if none. */
export function matchAnyBracket(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      // `\{` and `\}` are set braces: count them as brackets.
      const n = s[i + 1];
      if (n === '{') depth++;
      else if (n === '}') { depth--; if (depth === 0) return i + 1; }
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') { depth--; if (depth === 0) return i; }
  }
  return -1;
}

/**
 * Splits at top-level occurrences of `sep` (not inside (), [], {}, \{ \}).
 * Returns [s] when there is none.
 */
export function splitTopLevel(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '{' || n === '(' || n === '[') depth++;
      else if (n === '}' || n === ')' || n === ']') depth--;
      else if (depth === 0 && s.startsWith(sep, i)) { parts.push(s.slice(last, i)); last = i + sep.length; i += sep.length - 1; continue; }
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && s.startsWith(sep, i)) { parts.push(s.slice(last, i)); last = i + sep.length; i += sep.length - 1; }
  }
  parts.push(s.slice(last));
  return parts;
}

/** Replaces every `\name{X}` (for the given names) by `before + X + after`, innermost-safe, left to right. */
export function unwrapCommands(s: string, names: readonly string[], before = '', after = ''): string {
  if (s.indexOf('\\') < 0) return s;
  const re = new RegExp(`\\\\(?:${names.join('|')})(?![a-zA-Z])\\s*\\{`, 'g');
  let out = '';
  let pos = 0;
  for (;;) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const open = m.index + m[0].length - 1;
    const close = matchBrace(s, open);
    if (close < 0) break;
    out += s.slice(pos, m.index) + before + unwrapCommands(s.slice(open + 1, close), names, before, after) + after;
    pos = close + 1;
  }
  return out + s.slice(pos);
}

/** Strips one layer of math delimiters around the whole string: $…$, $$…$$, \(…\), \[…\]. */
export function stripMathDelimiters(s: string): string {
  for (;;) {
    const t = s.trim();
    let inner: string | null = null;
    if (t.length >= 4 && t.startsWith('$$') && t.endsWith('$$')) inner = t.slice(2, -2);
    else if (t.length >= 2 && t.startsWith('$') && t.endsWith('$') && t.indexOf('$', 1) === t.length - 1) inner = t.slice(1, -1);
    else if (t.startsWith('\\(') && t.endsWith('\\)')) inner = t.slice(2, -2);
    else if (t.startsWith('\\[') && t.endsWith('\\]')) inner = t.slice(2, -2);
    if (inner === null) return t;
    s = inner;
  }
}
