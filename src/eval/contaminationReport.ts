/**
 * "DCD: Check Contamination" as a Markdown document (pure): the summary, the
 * counts at each threshold, and one table row per benchmark question that
 * shares any n-gram with the corpus, highest score first. Plain Markdown, so
 * the report can be read as text, previewed, searched and saved.
 */
import type { ContaminationReport } from '../core/eval/contamination';
import type { TextItem } from '../core/eval/contamination';
import { mdCell } from '../core/display/markdown';

export { mdCell };

/** Where a corpus item came from (the report names file and sample, not just a position). */
export interface CorpusOrigin { file: string; index: number }

export interface ContaminationDocOptions {
  benchmarkLabel: string;
  corpusLabel: string;
  /** Origin of each corpus item, by its position in the corpus list. */
  origins?: readonly CorpusOrigin[];
  /** Rows listed at most (default 500); questions that share nothing are only counted. */
  maxRows?: number;
  /** Characters of a question shown (default 240). */
  clip?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function contaminationMarkdown(report: ContaminationReport, opts: ContaminationDocOptions): string {
  const maxRows = opts.maxRows ?? 500;
  const clip = opts.clip ?? 240;
  const origin = (i: number) => opts.origins?.[i];
  const lines: string[] = [];
  lines.push(`# Contamination check: ${mdCell(opts.benchmarkLabel, 200)}`);
  lines.push('');
  lines.push(`- Benchmark: ${mdCell(opts.benchmarkLabel, 400)} (${report.benchmarkCount} questions)`);
  lines.push(`- Corpus: ${mdCell(opts.corpusLabel, 400)} (${report.corpusCount} questions, ${report.corpusUnique} distinct)`);
  lines.push(`- Score: the share of a benchmark question's word ${report.n}-grams found in one corpus question (containment); flagged when ≥ ${report.threshold}.`);
  lines.push(`- **Flagged: ${report.flagged} of ${report.benchmarkCount}** (${report.benchmarkCount ? pct(report.flagged / report.benchmarkCount) : '—'})`);
  lines.push('');
  lines.push('| threshold | questions with score ≥ threshold |');
  lines.push('|---:|---:|');
  for (const c of report.countsByThreshold) lines.push(`| ${c.threshold}${c.threshold === report.threshold ? ' (chosen)' : ''} | ${c.count} |`);
  lines.push('');
  const shown = report.rows.filter((r) => r.score > 0);
  const listed = shown.slice(0, maxRows);
  lines.push(`## Questions sharing ${report.n}-grams with the corpus (${shown.length})`);
  lines.push('');
  if (!listed.length) {
    lines.push(`No benchmark question shares a word ${report.n}-gram with the corpus.`);
  } else {
    lines.push('| flag | score | benchmark # | id | benchmark question | best corpus match | corpus question | shared | Jaccard |');
    lines.push('|:---:|---:|---:|---|---|---|---|---:|---:|');
    for (const r of listed) {
      const m = r.matches[0];
      const o = m ? origin(m.index) : undefined;
      const where = m ? (o ? `${mdCell(o.file, 120)} #${o.index + 1}` : `#${m.index + 1}`) + (m.id ? ` (${mdCell(m.id, 60)})` : '') + (m.copies > 1 ? ` ×${m.copies}` : '') : '';
      lines.push([
        '', r.flagged ? '⚠' : '', r.score.toFixed(3), String(r.index + 1), r.id ? mdCell(r.id, 60) : '', mdCell(r.question, clip),
        where, m ? mdCell(m.question, clip) : '', m ? String(m.shared) : '', m ? m.jaccard.toFixed(3) : '', '',
      ].join(' | ').trim());
    }
    if (shown.length > listed.length) lines.push('', `… and ${shown.length - listed.length} more with a score above 0.`);
  }
  const zero = report.rows.length - shown.length;
  lines.push('', `${zero} benchmark question${zero === 1 ? '' : 's'} share${zero === 1 ? 's' : ''} no ${report.n}-gram with the corpus.`);
  return lines.join('\n') + '\n';
}

/** Common question fields, in the order they are tried when the user names none. */
export const QUESTION_FIELDS = ['question', 'problem', 'Question', 'Problem', 'doc.question', 'doc.problem', 'input', 'query', 'prompt', 'text'];

/** The first common question field that is a string in (nearly) every record; undefined when none is. */
export function detectQuestionField(records: readonly Record<string, unknown>[], get: (r: Record<string, unknown>, f: string) => unknown): string | undefined {
  if (!records.length) return undefined;
  for (const f of QUESTION_FIELDS) {
    if (records.every((r) => typeof get(r, f) === 'string')) return f;
  }
  return undefined;
}

/** String fields of a record (top level, and one level into `doc`), for a picker. */
export function stringFields(rec: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(rec)) {
    if (typeof v === 'string') out.push(k);
    else if (k === 'doc' && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) if (typeof v2 === 'string') out.push(`doc.${k2}`);
    }
  }
  return out;
}

/** Distinct questions of a samples file's rows (one per document), as contamination items. */
export function samplesQuestionItems(rows: ReadonlyArray<{ docId: number | null; question: string | null; prompt: string; messages: Array<{ role: string; content: string }> | null }>): TextItem[] {
  const seen = new Set<string>();
  const out: TextItem[] = [];
  for (const r of rows) {
    const text = questionOfSample(r);
    const key = r.docId !== null ? `doc:${r.docId}` : `text:${text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ id: r.docId !== null ? `doc ${r.docId}` : null, text });
  }
  return out;
}

/** The eval question of a sample row: the document's question field, else the last user message, else the prompt. */
export function questionOfSample(r: { question: string | null; prompt: string; messages: Array<{ role: string; content: string }> | null }): string {
  if (r.question) return r.question;
  const user = r.messages?.filter((m) => m.role === 'user').pop();
  return user ? user.content : r.prompt;
}
