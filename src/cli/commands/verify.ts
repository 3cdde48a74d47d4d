/**
 * `dcd verify`: the corpus builder's answer verifier on the command line.
 *
 *   dcd verify --pred TEXT --gold TEXT [--json]
 *   dcd verify --pairs FILE [--pred-field P] [--gold-field G] [--json]
 *
 * By default the final answer is extracted from --pred (a draft) and a_gt
 * from --gold (an s1K solution); --pred-is-answer / --gold-is-answer take
 * them as bare answers. JSON output: {"equivalent","pred_answer","gold_answer","rule"}
 * per pair, plus "reason" when "equivalent" is null; a --pairs line's boolean
 * "pred_is_answer"/"gold_is_answer" fields override the two flags for that line; a malformed --pairs line prints {"error","line"} and the exit
 * code becomes 1.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Verification, VerifyOptions } from '../../core/answer';
import { parseJsonl } from '../../core/io/jsonl';
import { CliError, printJson } from '../output';

interface VerifyCliOptions {
  pred?: string;
  gold?: string;
  pairs?: string;
  predField: string;
  goldField: string;
  predIsAnswer?: boolean;
  goldIsAnswer?: boolean;
  json?: boolean;
}

function result(v: Verification): Verification {
  const out: Verification = { equivalent: v.equivalent, pred_answer: v.pred_answer, gold_answer: v.gold_answer, rule: v.rule };
  if (v.equivalent === null && v.reason) out.reason = v.reason; // added field: why it is undecidable
  return out;
}

function humanLine(v: Verification): string {
  const verdict = v.equivalent === true ? 'equivalent' : v.equivalent === false ? 'not equivalent' : 'undecidable';
  const show = (s: string | null) => (s === null ? '(none)' : JSON.stringify(s.length > 80 ? s.slice(0, 77) + '...' : s));
  return `${verdict} (${v.rule}): pred ${show(v.pred_answer)} vs gold ${show(v.gold_answer)}${v.equivalent === null && v.reason ? `: ${v.reason}` : ''}`;
}

function fieldText(row: Record<string, unknown>, field: string): string | null {
  const v = row[field];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** A --pairs line may say itself whether a side is a bare answer ("pred_is_answer", "gold_is_answer": booleans). */
function lineOptions(row: Record<string, unknown>, base: VerifyOptions): VerifyOptions {
  const flag = (v: unknown, d: boolean | undefined) => (typeof v === 'boolean' ? v : d);
  return { predIsAnswer: flag(row.pred_is_answer, base.predIsAnswer), goldIsAnswer: flag(row.gold_is_answer, base.goldIsAnswer) };
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('check whether a draft\'s final answer is equivalent to the gold answer (the verifier the corpus builder uses)')
    .option('--pred <text>', 'the draft text (its final answer is extracted)')
    .option('--gold <text>', 'the gold solution (a_gt is extracted; a short bare answer is itself the answer)')
    .option('--pairs <file>', 'JSONL file of pairs, one object per line ("-" reads stdin)')
    .option('--pred-field <name>', 'field of a --pairs line holding the prediction', 'pred')
    .option('--gold-field <name>', 'field of a --pairs line holding the gold', 'gold')
    .option('--pred-is-answer', 'take the prediction as a bare answer (no extraction)')
    .option('--gold-is-answer', 'take the gold as a bare answer (no extraction)')
    .option('--json', 'print JSON: one object, or one per --pairs line')
    .action(async (opts: VerifyCliOptions) => {
      // Loaded on use: the math library takes most of a second to start, which every other command would pay.
      const { verify } = await import('../../core/answer');
      const vopts: VerifyOptions = { predIsAnswer: !!opts.predIsAnswer, goldIsAnswer: !!opts.goldIsAnswer };
      if (opts.pairs !== undefined) {
        if (opts.pred !== undefined || opts.gold !== undefined) throw new CliError('use either --pairs or --pred/--gold, not both');
        const rows = parseJsonl<Record<string, unknown>>(readInput(opts.pairs));
        let malformed = 0;
        const counts = { equivalent: 0, different: 0, undecidable: 0 };
        for (const row of rows) {
          let error: string | null = null;
          let v: Verification | null = null;
          if (row.kind === 'error') error = row.message;
          else {
            const pred = fieldText(row.value, opts.predField);
            const gold = fieldText(row.value, opts.goldField);
            if (pred === null) error = `field "${opts.predField}" is missing or not a string`;
            else if (gold === null) error = `field "${opts.goldField}" is missing or not a string`;
            else v = verify(pred, gold, lineOptions(row.value, vopts));
          }
          if (error !== null || v === null) {
            malformed++;
            if (opts.json) printJson({ error, line: row.line });
            else process.stdout.write(`line ${row.line}: error: ${error}\n`);
            continue;
          }
          if (v.equivalent === true) counts.equivalent++;
          else if (v.equivalent === false) counts.different++;
          else counts.undecidable++;
          if (opts.json) printJson(result(v));
          else process.stdout.write(`line ${row.line}: ${humanLine(v)}\n`);
        }
        if (!opts.json) {
          process.stdout.write(`${rows.length} lines: ${counts.equivalent} equivalent, ${counts.different} not, ${counts.undecidable} undecidable, ${malformed} malformed\n`);
        }
        if (malformed) process.exitCode = 1;
        return;
      }
      if (opts.pred === undefined || opts.gold === undefined) throw new CliError('give --pred and --gold, or --pairs FILE');
      const v = verify(opts.pred, opts.gold, vopts);
      if (opts.json) printJson(result(v));
      else process.stdout.write(humanLine(v) + '\n');
    });
}
