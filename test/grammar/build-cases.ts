/**
 * Writes the grammar test cases (test/grammar/*.test.dcdtrace) from real public
 * data: each case renders a real question, draft and solution with the trace
 * template (src/core/trace/template.ts), then puts scope assertions under the lines
 * they test. The expected scopes below are the specification; this script only
 * computes the caret columns. Provenance: test/grammar/PROVENANCE.md.
 *
 *   DCD_SHARED=../shared node --import tsx test/grammar/build-cases.ts
 *
 * Only needed to regenerate the cases; the tests themselves read no shared data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderTrace, type TraceFields } from '../../src/core/trace/template';

const shared = path.resolve(process.env.DCD_SHARED ?? path.join(__dirname, '../../../shared'));
const data = (rel: string) => fs.readFileSync(path.join(shared, 'data', rel), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const S = '.dcd-trace';
const ROLE = `keyword.control.role${S}`;
const ROLE_END = `keyword.control.role.end${S}`;
const THINK = `keyword.control.stage.think${S}`;
const ANSWER = `keyword.control.stage.answer${S}`;
const BRIDGE = `markup.heading.bridge${S}`;
const CORRECT = `markup.inserted.verdict.correct${S}`;
const INCORRECT = `markup.deleted.verdict.incorrect${S}`;
const BOXED = `support.function.boxed${S}`;
const BOXED_CONTENT = `markup.bold.boxed${S}`;
const INLINE = `markup.math.inline${S}`;
const DISPLAY = `markup.math.display${S}`;
const CALC = `comment.block.calculator${S}`;

interface Assertion { find: string; nth?: number; scopes?: string; not?: string }
interface Case { file: string; description: string; preset: string; fields: TraceFields; assertions: Assertion[] }

/** Structure assertions every case shares. */
function structure(fields: TraceFields, preset: string): Assertion[] {
  const bridge = preset === 'paper-now-i-will'
    ? 'Now I will generate detailed reasoning steps and verify whether the draft solution is correct.'
    : "Now I'll generate detailed reasoning steps and verify whether the draft solution is correct.";
  const verdict = fields.verdict === 'correct'
    ? { find: "The draft solution is correct. I'll now generate the final answer.", scopes: CORRECT, not: INCORRECT }
    : preset === 'paper-bold-incorrect'
      ? { find: "The draft solution is **incorrect**. I'll revise it and provide the correct answer.", scopes: INCORRECT, not: CORRECT }
      : { find: "The draft solution is incorrect. I'll revise it and provide the correct answer.", scopes: INCORRECT, not: CORRECT };
  return [
    { find: '<|im_start|>system', scopes: ROLE },
    { find: '<|im_end|>', nth: 0, scopes: ROLE_END },
    { find: '<|im_start|>user', scopes: ROLE },
    { find: '<|im_end|>', nth: 1, scopes: `meta.section.user${S} ${ROLE_END}` },
    { find: '<|im_start|>assistant', scopes: ROLE, not: THINK },
    { find: '<|im_start|>think', scopes: THINK, not: ROLE },
    { find: bridge, scopes: `meta.section.chain${S} ${BRIDGE}`, not: `meta.section.draft${S}` },
    verdict,
    { find: '<|im_start|>answer', scopes: ANSWER, not: ROLE },
    { find: '<|im_end|>', nth: 2, scopes: `meta.section.answer${S} ${ROLE_END}` },
  ];
}

function build(): Case[] {
  const gsm = data('gsm8k/gsm8k_test.jsonl');
  const gpt3 = data('student_drafts/gpt3_gsm8k_test_example_model_solutions.jsonl');
  const math = data('math500/math500_test.jsonl');
  const qwen = data('student_drafts/qwen2.5-math-1.5b_r1zero_math500_results.jsonl');
  const cases: Case[] = [];

  // GSM8K test #0: a wrong GPT-3 6B draft (26, gold 18), calculator annotations, prices in $.
  {
    const fields: TraceFields = {
      question: gsm[0].question, draft: gpt3[0]['6b_finetuning'].solution, chain: gsm[0].answer,
      verdict: 'incorrect', final_answer: gpt3[0]['175b_verification'].solution,
    };
    cases.push({
      file: 'gsm8k-draft-wrong', description: 'GSM8K test #0, GPT-3 6B draft (wrong), paper template', preset: 'paper', fields,
      assertions: [
        ...structure(fields, 'paper'),
        { find: 'for $2 per fresh duck egg', not: INLINE },
        { find: '<<16-3=13>>', scopes: `meta.section.draft${S} ${CALC}` },
        { find: '<<', nth: 0, scopes: `${CALC} punctuation.definition.comment.begin${S}` },
        { find: '16-3', nth: 0, scopes: `${CALC} meta.expression.calculator${S}` },
        { find: '13>>', nth: 0, scopes: CALC },
        { find: '$<<13*2=26>>26', not: INLINE },
        { find: '<<13*2=26>>', scopes: CALC },
        { find: '<<16-3-4=9>>', scopes: `meta.section.chain${S} ${CALC}` },
        { find: '$<<9*2=18>>18', not: INLINE },
        { find: '<<9*2=18>>', scopes: CALC },
        { find: '#### 18', scopes: `markup.heading.final-answer.gsm8k${S}` },
        { find: '<<2*9=18>>', scopes: `meta.section.answer${S} ${CALC}` },
        { find: 'She sells her eggs for $2 per egg', not: INLINE },
      ],
    });
  }

  // MATH-500 #42: a correct Qwen2.5-Math-1.5B draft with \( \), multi-line \[ \], **bold**; "Now I will" bridge.
  {
    const solution: string = math[42].solution;
    const fields: TraceFields = {
      question: math[42].problem, draft: qwen[42].response, chain: solution,
      verdict: 'correct', final_answer: solution.slice(solution.indexOf('Since $a=-1$')),
    };
    cases.push({
      file: 'math500-draft-correct', description: 'MATH-500 #42, Qwen2.5-Math-1.5B draft (correct), paper-now-i-will template', preset: 'paper-now-i-will', fields,
      assertions: [
        ...structure(fields, 'paper-now-i-will'),
        { find: '$-4 < 2(x - 1) < 8$', scopes: `meta.section.user${S} ${INLINE}` },
        { find: '$a < x < b$', scopes: INLINE },
        { find: 'The solution to ', not: INLINE },
        { find: '\\(-4 < 2(x - 1) < 8\\)', scopes: `meta.section.draft${S} ${INLINE}` },
        { find: '\\(', nth: 0, scopes: `${INLINE} punctuation.definition.math.begin${S}` },
        { find: 'we need to follow these steps:', not: INLINE },
        { find: '**Divide all parts of the inequality by 2 to isolate the term involving ', scopes: `markup.bold${S}` },
        { find: '\\(x\\)', nth: 0, scopes: `markup.bold${S} ${INLINE}` },
        { find: '\\[', nth: 0, scopes: `${DISPLAY} punctuation.definition.math.begin${S}` },
        { find: '\\frac{-4}{2} < \\frac{2(x - 1)}{2} < \\frac{8}{2}', scopes: DISPLAY },
        { find: '\\frac', nth: 0, scopes: `${DISPLAY} support.function.latex${S}` },
        { find: '\\]', nth: 0, scopes: `${DISPLAY} punctuation.definition.math.end${S}` },
        { find: 'Simplifying this, we get:', nth: 0, not: DISPLAY },
        { find: '\\(\\boxed{4}\\)', scopes: INLINE },
        { find: '\\boxed', nth: 0, scopes: `${INLINE} ${BOXED}` },
        { find: '4}\\)', nth: 0, scopes: INLINE },
        { find: '\\[-2<x-1<4.\\]', scopes: `meta.section.chain${S} ${DISPLAY}` },
        { find: ' To isolate ', not: DISPLAY },
        { find: '$a+b=-1+5=\\boxed{4}$', nth: 0, scopes: `meta.section.chain${S} ${INLINE}` },
        { find: '\\boxed', nth: 1, scopes: `${INLINE} meta.boxed${S} ${BOXED}` },
        { find: '4}$', nth: 0, scopes: INLINE },
        { find: '4}$', nth: 1, scopes: `meta.section.answer${S} ${INLINE}` },
        { find: '.<|im_end|>', nth: 2, scopes: `meta.section.answer${S}`, not: INLINE },
        { find: '$a+b=-1+5=\\boxed{4}$', nth: 1, scopes: `meta.section.answer${S} ${INLINE}` },
      ],
    });
  }

  // MATH-500 #33: a wrong draft (1/645, gold 243/625), nested braces in \boxed, multi-line $$ … $$; bold **incorrect** template.
  {
    const solution: string = math[33].solution;
    const fields: TraceFields = {
      question: math[33].problem, draft: qwen[33].response, chain: solution,
      verdict: 'incorrect', final_answer: solution.slice(solution.indexOf('Plugging in')),
    };
    cases.push({
      file: 'math500-bold-incorrect', description: 'MATH-500 #33, Qwen2.5-Math-1.5B draft (wrong), paper-bold-incorrect template', preset: 'paper-bold-incorrect', fields,
      assertions: [
        ...structure(fields, 'paper-bold-incorrect'),
        { find: '**incorrect**', scopes: `${INCORRECT} markup.bold${S}` },
        { find: '**', nth: 0, scopes: `${INCORRECT} punctuation.definition.bold.begin${S}` },
        { find: '$\\frac{125}{9}, \\frac{25}{3}, 5, 3, \\ldots$', scopes: INLINE },
        { find: '$r = \\frac{25/3}{125/9} = \\frac{3}{5}$', scopes: `meta.section.draft${S} ${INLINE}` },
        { find: '$a_8 = 125/9', not: INLINE },
        { find: '$$\\text{The eighth term of the sequence is }\\boxed{\\frac{1}{645}}.$$', scopes: DISPLAY },
        { find: '\\boxed', nth: 0, scopes: `${DISPLAY} ${BOXED}` },
        { find: '\\frac{1}{645}', nth: 1, scopes: `${DISPLAY} meta.boxed${S} ${BOXED_CONTENT}` },
        { find: '}.$$', nth: 0, scopes: DISPLAY },
        { find: '$$', nth: 2, scopes: `meta.section.chain${S} ${DISPLAY} punctuation.definition.math.begin${S}` },
        { find: '\\frac{125}{9} \\cdot \\left( \\frac{3}{5} \\right)^{7} = \\frac{5^3}{3^2} \\cdot \\frac{3^7}{5^7}', nth: 0, scopes: DISPLAY },
        { find: '= \\frac{3^5}{5^4}', nth: 0, scopes: DISPLAY },
        { find: '\\boxed{\\frac{243}{625}}', nth: 0, scopes: `${DISPLAY} meta.boxed${S}` },
        { find: '\\frac{243}{625}', nth: 0, scopes: BOXED_CONTENT },
        { find: '}}', nth: 0, scopes: `meta.boxed${S}` },
        { find: '$$', nth: 3, scopes: `${DISPLAY} punctuation.definition.math.end${S}` },
        { find: '$$', nth: 5, scopes: `meta.section.answer${S} ${DISPLAY} punctuation.definition.math.end${S}` },
      ],
    });
  }

  // MATH-500 #38: several $$ … $$ on one line and $\boxed{\text{…}}$.
  {
    const fields: TraceFields = {
      question: math[38].problem, draft: qwen[38].response, chain: math[38].solution,
      verdict: 'correct', final_answer: '$\\boxed{' + math[38].answer + '}$',
    };
    cases.push({
      file: 'math500-display-dollars', description: 'MATH-500 #38, Qwen2.5-Math-1.5B draft, paper template', preset: 'paper', fields,
      assertions: [
        ...structure(fields, 'paper'),
        { find: '$40$', scopes: INLINE },
        { find: '$2\\%$', scopes: INLINE },
        { find: '$$40 = \\frac{2}{100}x$$', scopes: DISPLAY },
        { find: '</think> ', nth: 0, not: DISPLAY },
        { find: '$$\\Rightarrow 40 = 0.02x$$', scopes: DISPLAY },
        { find: '$$\\Rightarrow 2000 = x$$', scopes: DISPLAY },
        { find: '$\\boxed{\\text{2000 calories}}$', scopes: INLINE },
        { find: '\\text{2000 calories}', scopes: `${INLINE} meta.boxed${S} ${BOXED_CONTENT}` },
        { find: ' fulfills a person', not: INLINE },
        { find: '$$40\\cdot 50=\\boxed{2000}$$', scopes: `meta.section.chain${S} ${DISPLAY}` },
        { find: '$\\boxed{2000}$', scopes: `meta.section.answer${S} ${INLINE}` },
        { find: '2000', nth: 3, scopes: `${INLINE} ${BOXED_CONTENT}` },
      ],
    });
  }

  // MATH-500 #12: a messy, truncated base-model draft (CJK text, "$ … $" with inner spaces, an unclosed "$"),
  // and a chain with \begin{align*} … \end{align*} written outside $$.
  {
    const solution: string = math[12].solution;
    const fields: TraceFields = {
      question: math[12].problem, draft: qwen[12].response, chain: solution,
      verdict: 'incorrect', final_answer: solution.slice(solution.indexOf('$$(1+2+2^2)')),
    };
    cases.push({
      file: 'math500-align', description: 'MATH-500 #12, truncated Qwen2.5-Math-1.5B draft, align* in the chain, paper template', preset: 'paper', fields,
      assertions: [
        ...structure(fields, 'paper'),
        { find: '$ |\\psi _n|=2n, |\\phi _n|=2n+1 $', not: INLINE },
        { find: '$\\Psi^{(2)}_{n+1} =2\\Psi^{(1)}_6$', scopes: INLINE },
        { find: '承载着独立变量的一道复合函数', scopes: `meta.section.draft${S}`, not: INLINE },
        { find: '$$A^{1/k} = \\prod_{i}^{M}{\\mathrm{DL}^{ 1 / k} \\mathrm{L}^T }$$', scopes: DISPLAY },
        { find: '$\\sum_{i}^{M}{\\mathrm{DL}^{ ', not: INLINE },
        { find: '\\begin{align*}', scopes: `meta.section.chain${S} ${DISPLAY} punctuation.definition.math.begin${S}` },
        { find: '1+2+2^2+71+2 \\cdot 71 &= (1+2+2^2)(1+71)-284 \\\\', scopes: DISPLAY },
        { find: '\\cdot', nth: 1, scopes: `${DISPLAY} support.function.latex${S}` },
        { find: '&= 2^2\\cdot5\\cdot11.', scopes: DISPLAY },
        { find: '\\end{align*}', scopes: `${DISPLAY} punctuation.definition.math.end${S}` },
        { find: 'Here we have used the observation', not: DISPLAY },
        { find: '$(1+2+2^2)(1+71)$', scopes: INLINE },
        { find: '\\boxed{284}', nth: 1, scopes: `meta.section.answer${S} ${DISPLAY} meta.boxed${S}` },
      ],
    });
  }

  // MATH-500 #42 again, the draft cut by a token limit inside a \[ … \] block: the structure must survive.
  {
    const response: string = qwen[42].response;
    const cut = response.indexOf('\\frac{-4}{2} <') + '\\frac{-4}{2} <'.length;
    const fields: TraceFields = {
      question: math[42].problem, draft: response.slice(0, cut), chain: math[42].solution,
      verdict: 'incorrect', final_answer: math[42].solution.slice(math[42].solution.indexOf('Since $a=-1$')),
    };
    cases.push({
      file: 'truncated-draft', description: 'MATH-500 #42, draft truncated inside \\[ … \\], paper template', preset: 'paper', fields,
      assertions: [
        ...structure(fields, 'paper'),
        { find: '\\frac{-4}{2} <', scopes: `meta.section.draft${S} ${DISPLAY}` },
        { find: "Now I'll generate", not: DISPLAY },
        { find: "The draft solution is incorrect.", not: `${DISPLAY}` },
        { find: '<|im_start|>answer', not: `meta.section.draft${S}` },
      ],
    });
  }
  return cases;
}

function occurrence(text: string, find: string, nth: number): number {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(find, at + 1);
    if (at < 0) throw new Error(`"${find}" occurs fewer than ${nth + 1} times`);
  }
  return at;
}

function write(c: Case, dir: string): void {
  const { text } = renderTrace(c.fields, c.preset);
  const lines = text.split('\n');
  const starts: number[] = [];
  let pos = 0;
  for (const l of lines) { starts.push(pos); pos += l.length + 1; }
  const byLine = new Map<number, string[]>();
  for (const a of c.assertions) {
    const at = occurrence(text, a.find, a.nth ?? 0);
    if (a.find.includes('\n')) throw new Error(`assertion text spans lines: ${a.find}`);
    let line = starts.length - 1;
    while (starts[line] > at) line--;
    const col = at - starts[line];
    const what = [a.scopes ?? '', a.not ? `- ${a.not}` : ''].filter(Boolean).join(' ');
    const marker = col >= 2 ? '//' + ' '.repeat(col - 2) + '^'.repeat(a.find.length) : '//<' + '~'.repeat(col) + '-'.repeat(a.find.length);
    const list = byLine.get(line) ?? [];
    list.push(`${marker} ${what}`);
    byLine.set(line, list);
  }
  const out = [`// SYNTAX TEST "text.dcd-trace" "${c.description}"`];
  lines.forEach((l, i) => {
    if (/^\/\/\s*(\^|<~*-)/.test(l)) throw new Error(`source line ${i} looks like an assertion`);
    out.push(l, ...(byLine.get(i) ?? []));
  });
  fs.writeFileSync(path.join(dir, `${c.file}.test.dcdtrace`), out.join('\n') + '\n');
}

for (const c of build()) write(c, __dirname);
