/** Editing one field of a JSON line without touching its other bytes. */
import { skipWs, topLevelMembers } from '../io/jsonMembers';

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Sets (or, with `undefined`, removes) a top-level field of a JSON object
 * line. Only that member's text changes: key order, spacing, escapes and
 * number spellings of every other member stay byte for byte. A new member is
 * appended in the line's own separator style. Falls back to re-serialising
 * the parsed object when the line cannot be edited textually.
 */
export function setTopLevelField(line: string, key: string, value: unknown): string {
  const parsed = topLevelMembers(line);
  let out: string | null = null;
  if (parsed) {
    const { members, open, close } = parsed;
    // JSON.parse keeps the last of duplicate keys.
    let idx = -1;
    for (let k = members.length - 1; k >= 0; k--) if (members[k].key === key) { idx = k; break; }
    const spaced = members.length > 0 && line[skipWs(line, members[0].keyStart + JSON.stringify(members[0].key).length) + 1] === ' ';
    const colon = spaced ? ': ' : ':';
    const comma = members.length > 1 && /^\s*,\s/.test(line.slice(members[0].valueEnd, members[1].keyStart)) ? ', ' : ',';
    if (value === undefined) {
      if (idx < 0) return line;
      const m = members[idx];
      if (members.length === 1) out = line.slice(0, open + 1) + line.slice(close);
      else if (idx > 0) out = line.slice(0, members[idx - 1].valueEnd) + line.slice(m.valueEnd);
      else out = line.slice(0, m.keyStart) + line.slice(members[1].keyStart);
    } else {
      const json = JSON.stringify(value);
      if (idx >= 0) {
        const m = members[idx];
        out = line.slice(0, m.valueStart) + json + line.slice(m.valueEnd);
      } else if (members.length) {
        const last = members[members.length - 1];
        out = `${line.slice(0, last.valueEnd)}${comma}${JSON.stringify(key)}${colon}${json}${line.slice(last.valueEnd)}`;
      } else {
        out = `${line.slice(0, open + 1)}${JSON.stringify(key)}${colon}${json}${line.slice(open + 1)}`;
      }
    }
    // Check the textual edit against its meaning.
    try {
      const a = JSON.parse(out) as Record<string, unknown>;
      const b = JSON.parse(line) as Record<string, unknown>;
      if (value === undefined) delete b[key]; else b[key] = value;
      if (!sameJson(a, b)) out = null;
    } catch { out = null; }
  }
  if (out !== null) return out;
  const obj = JSON.parse(line) as Record<string, unknown>;
  if (value === undefined) delete obj[key]; else obj[key] = value;
  return JSON.stringify(obj);
}
