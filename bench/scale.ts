/**
 * Scale bench (issue 20): corpora of 200 MB, 1 GB and 5 GB through the `dcd`
 * bundle (out/cli.js, built first), each command a process of its own, timed
 * with its peak RSS (/usr/bin/time: the whole process, worker threads and the
 * tokenizer's caches included):
 * - `stats --no-tokens` against a Python baseline measured in the same run
 *   (line by line `json.loads` of the same file);
 * - `render --index <last>`: the first call builds the byte-offset index, the
 *   next three are timed (median);
 * - `pack --no-cache` (cold tokenization, every sample), tokens per second
 *   (at the sizes named in DCD_BENCH_SCALE_PACK, default all);
 * - `tokens --index <last>`, `export --format messages` and `contamination`
 *   (the demo's GSM8K questions against the corpus), once each;
 * - `stats` with the token audit and `plan`, at the sizes named in
 *   DCD_BENCH_SCALE_TOKENS (default 200MB: each tokenizes the whole corpus again);
 * - pack against the Rust `tokenizers` package's `encodeBatch` (all cores) on
 *   the same texts: the first ~8 MB of the 200 MB corpus's samples, packed as
 *   a corpus of their own (no truncation); the ids must be identical. That
 *   small pack is dominated by start-up (three tokenizer loads), so the floor
 *   compares throughput: each size's whole-corpus pack (tokens per second,
 *   wall and CPU) against encodeBatch's on the subset.
 * DCD_BENCH_SCALE_ONLY=contamination (say) measures just those commands
 * again, at every size, and keeps the other figures of the last run.
 * Floors: every command succeeds with peak RSS ≤ 1.5 GB; stats ≤ 2× Python;
 * render of the last sample ≤ 1 s once the index is built; pack ≥ 4× encodeBatch.
 *
 * Corpora are generated once, deterministically, into DCD_BENCH_SCALE_DIR
 * (default <tmp>/dcd-bench-scale) by bench/scaleCorpus.ts, the one generator
 * of the scale benches, and kept for later runs. DCD_BENCH_SCALE_SIZES picks the sizes
 * (default "200MB,1GB,5GB"); a size that does not fit on the disk is reported, not run;
 * sizes not run keep their figures from an earlier run, marked with its date.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { resolveTokenizerSource } from '../src/core/tokenizer';
import { readExport } from '../src/core/training/pack';
import { ensureScaleCorpus } from './scaleCorpus';

const ROOT = path.join(__dirname, '..');
const RSS_FLOOR_MB = 1536;
/** Benchmark questions for `contamination`: the demo's GSM8K test slice. */
const BENCH_QUESTIONS = path.join(ROOT, 'media', 'demo', 'bench-data', 'gsm8k', 'test.jsonl');

interface Measured { ok: boolean; s: number; rss_mb: number; cpu_s: number; stdout: string; stderr: string }

/** Runs a command under /usr/bin/time: wall seconds, peak RSS (MB), CPU seconds. */
function measure(cmd: string, args: string[], env: Record<string, string> = {}): Measured {
  const timeFile = path.join(os.tmpdir(), `dcd-bench-time-${process.pid}.txt`);
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%M %U %S', cmd, ...args], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env },
  });
  const s = (performance.now() - t0) / 1000;
  const [kb, user, sys] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  fs.rmSync(timeFile, { force: true });
  return { ok: r.status === 0, s: +s.toFixed(3), rss_mb: Math.round(kb / 1024), cpu_s: +(user + sys).toFixed(2), stdout: r.stdout, stderr: r.stderr };
}

const summary = (m: Measured) => ({ ok: m.ok, s: m.s, rss_mb: m.rss_mb, cpu_s: m.cpu_s, ...(m.ok ? {} : { error: m.stderr.slice(-400) }) });

/** The scale entry of bench/results.json as the last run left it. */
function readPrevious(): { sizes?: Record<string, unknown>; floors?: Record<string, boolean>; pack_vs_rust?: Record<string, unknown>; measured_at?: string } | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, 'results.json'), 'utf8')) as { benches?: Record<string, never> }).benches?.scale ?? null;
  } catch {
    return null;
  }
}

/** 1GB is 1 GiB: the same corpus file as bench/workbenchScale.ts's. */
const SIZES: Record<string, number> = { '20MB': 20e6, '200MB': 200e6, '1GB': 1024 ** 3, '5GB': 5e9 };

function freeBytes(dir: string): number {
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
}

/** The figures of one size's commands (every key of a size's record whose value is a measurement). */
const COMMAND_KEYS = ['stats', 'render_last_first_call', 'render_last', 'tokens_last', 'export_messages', 'contamination', 'pack', 'stats_with_tokens', 'plan'];

function allSucceed(r: Record<string, unknown>): boolean {
  return COMMAND_KEYS.filter((c) => r[c]).every((c) => (r[c] as Measured).ok && (r[c] as Measured).rss_mb <= RSS_FLOOR_MB);
}

/**
 * The other streaming commands, once each: the last sample's tokens (through
 * the index), the TRL export (a corpus-sized output, removed after), and
 * contamination of the demo's GSM8K questions against the corpus.
 */
function otherCommands(cli: string, file: string, samples: number, exportFile: string, env: Record<string, string>): Record<string, () => Measured> {
  return {
    tokens_last: () => measure(process.execPath, [cli, 'tokens', file, '--index', String(samples - 1), '--json'], env),
    export_messages: () => {
      try { return measure(process.execPath, [cli, 'export', file, '--format', 'messages', '--out', exportFile, '--json'], env); } finally { fs.rmSync(exportFile, { force: true }); }
    },
    contamination: () => measure(process.execPath, [cli, 'contamination', '--benchmark', BENCH_QUESTIONS, '--benchmark-field', 'question', '--corpus', file, '--json'], env),
  };
}

/**
 * DCD_BENCH_SCALE_ONLY=<keys of otherCommands>: measures just those commands
 * again at every size of the last run, keeping its other figures; each
 * re-measured figure is dated in `remeasured_at`.
 */
async function remeasure(only: string[], cli: string, dir: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const previous = readPrevious();
  if (!previous?.sizes) throw new Error('DCD_BENCH_SCALE_ONLY needs the figures of an earlier full run in bench/results.json');
  const out: Record<string, unknown> = { ...previous, sizes: { ...previous.sizes }, floors: { ...previous.floors } };
  delete out.measured_at;
  delete out.wall_s;
  const bySize = out.sizes as Record<string, Record<string, unknown>>;
  for (const [name, prev] of Object.entries(previous.sizes as Record<string, Record<string, unknown>>)) {
    const bytes = SIZES[name];
    if (!bytes || !prev.samples) continue;
    const { file, samples } = ensureScaleCorpus(bytes, dir);
    const r: Record<string, unknown> = { ...prev, remeasured_at: { ...(prev.remeasured_at as object | undefined) } };
    if (!r.measured_in_an_earlier_run) r.measured_in_an_earlier_run = previous.measured_at;
    const runs = otherCommands(cli, file, samples, path.join(dir, `export-${name}.jsonl`), env);
    for (const key of only) {
      if (!runs[key]) throw new Error(`DCD_BENCH_SCALE_ONLY: unknown command ${key} (known: ${Object.keys(runs).join(', ')})`);
      r[key] = summary(runs[key]());
      (r.remeasured_at as Record<string, string>)[key] = new Date().toISOString();
      process.stderr.write(`[bench] scale ${name} ${key}: ${JSON.stringify(r[key])}\n`);
    }
    bySize[name] = r;
    (out.floors as Record<string, boolean>)[`${name}_all_succeed_rss_le_1.5GB`] = allSucceed(r);
  }
  return out;
}

export async function run(): Promise<Record<string, unknown>> {
  const sizes = (process.env.DCD_BENCH_SCALE_SIZES ?? '200MB,1GB,5GB').split(',').map((s) => s.trim()).filter(Boolean);
  const packSizes = (process.env.DCD_BENCH_SCALE_PACK ?? sizes.join(',')).split(',').map((s) => s.trim());
  const tokenSizes = (process.env.DCD_BENCH_SCALE_TOKENS ?? '200MB').split(',').map((s) => s.trim());
  const dir = process.env.DCD_BENCH_SCALE_DIR ?? path.join(os.tmpdir(), 'dcd-bench-scale');
  fs.mkdirSync(dir, { recursive: true });
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const cli = path.join(ROOT, 'out', 'cli.js');
  const python = fs.existsSync(path.join(ROOT, '.venv', 'bin', 'python')) ? path.join(ROOT, '.venv', 'bin', 'python') : 'python3';
  const pyScript = 'import json,sys\nn=0\nwith open(sys.argv[1],"rb") as f:\n    for line in f:\n        if line.strip():\n            json.loads(line); n+=1\nprint(n)\n';
  // The index cache of this run only: the first render must build it.
  const env = { DCD_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-bench-scale-cache-')) };
  if (process.env.DCD_BENCH_SCALE_ONLY) {
    try { return await remeasure(process.env.DCD_BENCH_SCALE_ONLY.split(',').map((x) => x.trim()), cli, dir, env); } finally { fs.rmSync(env.DCD_CACHE_DIR, { recursive: true, force: true }); }
  }
  const out: Record<string, unknown> = { cpus: os.cpus().length, load_average_start: +os.loadavg()[0].toFixed(2), sizes: {} as Record<string, unknown> };
  const bySize = out.sizes as Record<string, unknown>;
  const floors: Record<string, boolean> = {};
  const packedNow: string[] = [];
  const corpusFiles: Record<string, string> = {};
  try {
    for (const name of sizes) {
      const bytes = SIZES[name];
      if (!bytes) { bySize[name] = { error: `unknown size (known: ${Object.keys(SIZES).join(', ')})` }; continue; }
      const existing = path.join(dir, `dcd-scale-${bytes}-v2.dcd.jsonl`);
      // The corpus, its pack output (~1.2× the corpus) and slack.
      const need = (fs.existsSync(existing) ? 0 : bytes) + 1.3 * bytes;
      if (freeBytes(dir) < need) { bySize[name] = { skipped: `needs ${(need / 1e9).toFixed(1)} GB free in ${dir}, has ${(freeBytes(dir) / 1e9).toFixed(1)} GB` }; continue; }
      const g0 = performance.now();
      const corpus = ensureScaleCorpus(bytes, dir);
      const { file, samples } = corpus;
      const genS = corpus.reused ? 0 : (performance.now() - g0) / 1000;
      corpusFiles[name] = file;
      const fileBytes = fs.statSync(file).size;
      const r: Record<string, unknown> = { file_mb: Math.round(fileBytes / 1e6), samples, generate_s: +genS.toFixed(1) };
      bySize[name] = r;
      process.stderr.write(`[bench] scale ${name}: ${samples} samples, ${r.file_mb} MB\n`);

      const py = measure(python, ['-c', pyScript, file]);
      r.python_json_loads = summary(py);
      const stats = measure(process.execPath, [cli, 'stats', file, '--no-tokens', '--json'], env);
      r.stats = summary(stats);
      if (stats.ok && JSON.parse(stats.stdout).samples !== samples) r.stats = { ...summary(stats), ok: false, error: 'wrong sample count' };
      r.stats_over_python = +(stats.s / py.s).toFixed(2);

      const renderBuild = measure(process.execPath, [cli, 'render', file, '--index', String(samples - 1)], env);
      // Three calls once the index is built; the median is the figure (the machine may be shared).
      const renders = [0, 1, 2].map(() => measure(process.execPath, [cli, 'render', file, '--index', String(samples - 1)], env));
      const render = [...renders].sort((a, b) => a.s - b.s)[1];
      r.render_last_first_call = summary(renderBuild);
      r.render_last = { ...summary(render), ok: renders.every((x) => x.ok), runs_s: renders.map((x) => x.s) };

      for (const [key, run] of Object.entries(otherCommands(cli, file, samples, path.join(dir, `export-${name}.jsonl`), env))) r[key] = summary(run());

      const packDir = path.join(dir, `pack-${name}`);
      if (packSizes.includes(name)) {
        packedNow.push(name);
        const pack = measure(process.execPath, [cli, 'pack', file, '--out', packDir, '--no-cache', '--json'], env);
        r.pack = summary(pack);
        if (pack.ok) {
          const m = JSON.parse(pack.stdout) as { tokens: number; samples: number };
          r.pack = { ...summary(pack), tokens: m.tokens, samples: m.samples, mtok_s: +(m.tokens / pack.s / 1e6).toFixed(3) };
        }
        fs.rmSync(packDir, { recursive: true, force: true });
      } else r.pack_skipped = 'not in DCD_BENCH_SCALE_PACK';

      if (tokenSizes.includes(name)) {
        const tokenCache = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-bench-scale-tokens-'));
        // stats has no --cache-dir: the token cache goes where TMPDIR points.
        r.stats_with_tokens = summary(measure(process.execPath, [cli, 'stats', file, '--json'], { ...env, TMPDIR: tokenCache }));
        r.plan = summary(measure(process.execPath, [cli, 'plan', file, '--json'], { ...env, TMPDIR: tokenCache }));
        fs.rmSync(tokenCache, { recursive: true, force: true });
      }

      floors[`${name}_all_succeed_rss_le_1.5GB`] = allSucceed(r);
      floors[`${name}_stats_le_2x_python`] = stats.ok && stats.s <= 2 * py.s;
      floors[`${name}_render_last_le_1s`] = renders.every((x) => x.ok) && render.s <= 1;
    }

    // ---- pack vs the Rust tokenizers' encodeBatch on the same texts
    const small = corpusFiles['200MB'] ?? ensureScaleCorpus(SIZES['200MB'], dir).file;
    {
      const lines: string[] = [];
      let size = 0;
      for (const l of fs.readFileSync(small, 'utf8').split('\n')) {
        if (!l) continue;
        lines.push(l);
        size += (JSON.parse(l) as { text: string }).text.length;
        if (size >= 8e6) break;
      }
      const subset = path.join(dir, 'pack-vs-rust.dcd.jsonl');
      fs.writeFileSync(subset, lines.join('\n') + '\n');
      const texts = lines.map((l) => (JSON.parse(l) as { text: string }).text);
      const packDir = path.join(dir, 'pack-vs-rust');
      // No truncation: every sample's ids whole, to compare with Rust's.
      const pack = measure(process.execPath, [cli, 'pack', subset, '--out', packDir, '--no-cache', '--max-length', '100000000', '--json'], env);
      const source = await resolveTokenizerSource();
      const rust = RustTokenizer.fromString(source.tokenizerJson);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const rustIds: number[][] = [];
      for (let i = 0; i < texts.length; i += 32) {
        for (const e of await rust.encodeBatch(texts.slice(i, i + 32), { addSpecialTokens: false })) rustIds.push(e.getIds());
      }
      const rustS = (performance.now() - t0) / 1000;
      const rustCpu = process.cpuUsage(c0);
      const rustCpuS = (rustCpu.user + rustCpu.system) / 1e6;
      let identical = pack.ok;
      let tokens = 0;
      let mismatched = 0;
      if (pack.ok) {
        const exp = await readExport(packDir);
        rustIds.forEach((ids, k) => {
          const ours = exp.ids.subarray(Number(exp.offsets[k]), Number(exp.offsets[k + 1]));
          tokens += ids.length;
          if (ours.length !== ids.length || ids.some((x, i) => x !== ours[i])) { identical = false; mismatched++; }
        });
      }
      fs.rmSync(packDir, { recursive: true, force: true });
      fs.rmSync(subset, { force: true });
      out.pack_vs_rust = {
        text_mb: +(texts.reduce((a, t) => a + Buffer.byteLength(t), 0) / 1e6).toFixed(1), samples: texts.length, tokens,
        pack: summary(pack), rust_encode_batch_s: +rustS.toFixed(2), rust_encode_batch_cpu_s: +rustCpuS.toFixed(2), ids_identical: identical, samples_with_other_ids: mismatched,
        speedup_pack_over_rust: +(rustS / pack.s).toFixed(2),
        // CPU seconds: the fairer ratio on a shared machine (both use every core they get).
        cpu_speedup_pack_over_rust: +(rustCpuS / pack.cpu_s).toFixed(2),
      };
      const rustMtokS = tokens / rustS / 1e6;
      const rustMtokCpuS = tokens / rustCpuS / 1e6;
      Object.assign(out.pack_vs_rust as object, { rust_mtok_s: +rustMtokS.toFixed(3), rust_mtok_per_cpu_s: +rustMtokCpuS.toFixed(3) });
    }
  } finally {
    fs.rmSync(env.DCD_CACHE_DIR, { recursive: true, force: true });
  }
  // Throughput: each size's pack (whole corpus, cold, startup amortised) against Rust's
  // encodeBatch on the same kind of text (the 8 MB subset above, ids checked identical).
  const pvr = out.pack_vs_rust as { ids_identical?: boolean; rust_mtok_s?: number; rust_mtok_per_cpu_s?: number } | undefined;
  if (pvr?.rust_mtok_s && pvr.rust_mtok_per_cpu_s) {
    const ratios: Record<string, { wall: number; cpu: number }> = {};
    // Only packs of this run: a figure from another run was measured under another load.
    for (const name of packedNow) {
      const p = (bySize[name] as { pack?: { ok: boolean; tokens?: number; s: number; cpu_s: number } }).pack;
      if (!p?.ok || !p.tokens) continue;
      ratios[name] = { wall: +(p.tokens / p.s / 1e6 / pvr.rust_mtok_s).toFixed(2), cpu: +(p.tokens / p.cpu_s / 1e6 / pvr.rust_mtok_per_cpu_s).toFixed(2) };
    }
    (out.pack_vs_rust as Record<string, unknown>).pack_throughput_over_rust = ratios;
    const worst = Math.min(...Object.values(ratios).map((x) => x.wall));
    if (Object.keys(ratios).length) floors.pack_throughput_ge_4x_rust_encode_batch = !!pvr.ids_identical && worst >= 4;
    else delete (out.pack_vs_rust as Record<string, unknown>).pack_throughput_over_rust;
  }
  // Sizes not measured in this run keep their figures from the last run that measured them (dated).
  const previous = readPrevious();
  for (const [name, r] of Object.entries(previous?.sizes ?? {})) {
    if (name in bySize) continue;
    bySize[name] = { ...(r as Record<string, unknown>), measured_in_an_earlier_run: (r as { measured_in_an_earlier_run?: string }).measured_in_an_earlier_run ?? previous?.measured_at };
    for (const [k, v] of Object.entries(previous?.floors ?? {})) if (k.startsWith(`${name}_`) && !(k in floors)) floors[k] = v;
  }
  const ratios = (out.pack_vs_rust as { pack_throughput_over_rust?: object } | undefined)?.pack_throughput_over_rust;
  if (previous?.pack_vs_rust && (!out.pack_vs_rust || !ratios || !Object.keys(ratios).length)) {
    // No pack in this run to compare: the last same-run comparison stands, dated.
    out.pack_vs_rust = { ...previous.pack_vs_rust, measured_in_an_earlier_run: (previous.pack_vs_rust as { measured_in_an_earlier_run?: string }).measured_in_an_earlier_run ?? previous.measured_at };
    if (previous.floors && 'pack_throughput_ge_4x_rust_encode_batch' in previous.floors) floors.pack_throughput_ge_4x_rust_encode_batch = previous.floors.pack_throughput_ge_4x_rust_encode_batch;
  }
  out.load_average_end = +os.loadavg()[0].toFixed(2);
  out.floors = floors;
  out.corpus_dir = dir;
  return out;
}
