/** Text from data files (corpora, benchmarks) made inert for Markdown views: tooltips, reports. */
import type { CorpusSummary } from '../corpus/summary';

/**
 * One line of text as an inert Markdown code span, fit for a table cell: line
 * breaks folded, pipes escaped (GFM tables split on them even in code), and a
 * fence longer than any backtick run inside. Nothing in it renders as
 * Markdown, HTML or math, and LaTeX stays readable in the plain text.
 */
export function mdCell(s: string, max = 240): string {
  let one = s.replace(/\s+/g, ' ').trim();
  if (one.length > max) one = one.slice(0, max - 1) + '…';
  if (!one) return '';
  const longest = Math.max(0, ...(one.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = one.startsWith('`') || one.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${one.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/**
 * The Corpora view's tooltip for one corpus file. The file name and every
 * `draft_source` come from the data: each is an inert code span, so a source
 * named like a link or a table row renders as the text it is.
 */
export function corpusSummaryMarkdown(label: string, s: CorpusSummary): string {
  return `**${mdCell(label, 400)}**\n\n| | |\n|---|---|\n| samples | ${s.samples} |\n| draft-correct | ${s.draft_correct} |\n| draft-wrong | ${s.draft_wrong} |\n| malformed lines | ${s.malformed} |\n`
    + Object.entries(s.by_source).map(([k, v]) => `| source ${mdCell(k, 120)} | ${v} |`).join('\n');
}
