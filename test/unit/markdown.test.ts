/** Data-file text in Markdown tooltips renders as text, never as links, tables or HTML. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusSummaryMarkdown } from '../../src/core/display/markdown';
import type { CorpusSummary } from '../../src/core/corpus/summary';

const summary = (by_source: Record<string, number>): CorpusSummary =>
  ({ samples: 2, draft_correct: 1, draft_wrong: 1, malformed: 0, incomplete: 0, by_source, by_cot_type: {} });

test('draft_source values and the file name are inert code spans in the Corpora tooltip', () => {
  const evil = '`x` | 9 |\n| [click](command:workbench.action.terminal.new) <img src=x onerror=alert(1)> **b**';
  const md = corpusSummaryMarkdown('a*b*/c.dcd.jsonl', summary({ [evil]: 2, plain: 1 }));
  const rows = md.split('\n');
  const sourceRows = rows.filter((r) => r.startsWith('| source '));
  assert.equal(sourceRows.length, 2, 'one table row per source, whatever the source holds');
  assert.equal(sourceRows[0], '| source `` `x` \\| 9 \\| \\| [click](command:workbench.action.terminal.new) <img src=x onerror=alert(1)> **b** `` | 2 |');
  assert.equal(sourceRows[1], '| source `plain` | 1 |');
  assert.equal(rows[0], '**`a*b*/c.dcd.jsonl`**');
});
