/**
 * `npm run bench`: runs every benchmark module in bench/ and writes
 * bench/results.json (machine, date, one entry per bench). DCD_BENCH=a,b runs
 * a subset; the other entries of an existing results file are kept.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Helpers other benchmarks import: not benchmarks themselves. */
const HELPERS = ['scaleCorpus'];
const ORDER = ['corpus', 'verifier', 'tokenizer', 'diagnostics', 'traces', 'workbench', 'onnx', 'trainer', 'upload', 'eval', 'lmeval', 'evalui', 'scale', 'workbenchScale'];

type BenchModule = { run?: () => Promise<Record<string, unknown>>; default?: { run?: () => Promise<Record<string, unknown>> } };

async function main(): Promise<void> {
  const dir = __dirname;
  const available = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, '')).filter((n) => !HELPERS.includes(n));
  const names = [...ORDER.filter((n) => available.includes(n)), ...available.filter((n) => !ORDER.includes(n))];
  const wanted = process.env.DCD_BENCH ? process.env.DCD_BENCH.split(',') : names;
  const file = path.join(dir, 'results.json');
  const previous = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { benches: {} };
  const results: Record<string, unknown> = { ...previous.benches };
  for (const name of names.filter((n) => wanted.includes(n))) {
    process.stderr.write(`[bench] ${name}…\n`);
    const t0 = Date.now();
    try {
      const mod = (await import(path.join(dir, `${name}.ts`))) as BenchModule;
      const runBench = mod.run ?? mod.default?.run;
      if (!runBench) throw new Error('exports no run()');
      results[name] = { ...(await runBench()), measured_at: new Date().toISOString(), wall_s: (Date.now() - t0) / 1000 };
    } catch (err) {
      results[name] = { error: (err as Error).message, measured_at: new Date().toISOString() };
    }
    process.stderr.write(`[bench] ${name}: ${JSON.stringify(results[name]).slice(0, 400)}\n`);
  }
  const out = {
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` },
    written_at: new Date().toISOString(),
    benches: results,
  };
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`[bench] wrote ${file}\n`);
}

main().catch((err) => { console.error(err); process.exit(1); });
