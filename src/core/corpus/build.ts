/**
 * "Build Corpus": import → assemble → write, shared by `dcd build` and the
 * extension's "DCD: Build Corpus…" command.
 */
import { importDrafts, importS1k } from './importers';
import { assembleCorpus, type AssembleOptions, type AssembleResult } from './assemble';
import { writeFileAtomic } from '../io/atomicWrite';
import { sampleLines } from '../io/sampleJson';
import { jsonlLines, type JsonlError } from '../io/jsonl';
import { exportLine, type ExportFormat } from './exports';

export interface BuildOptions extends AssembleOptions {
  s1k: string;
  drafts?: string;
  out: string;
  /** Also write these exports: format → file. */
  exports?: Partial<Record<ExportFormat, string>>;
  onProgress?: (stage: string) => void;
}

export interface BuildResult {
  out: string;
  summary: AssembleResult['summary'] & { s1k_format: string; bad_lines: number };
  /** Malformed or incomplete input lines, with file and line number. */
  errors: JsonlError[];
  reported: AssembleResult['reported'];
}

export async function buildCorpus(opts: BuildOptions): Promise<BuildResult> {
  opts.onProgress?.('Reading s1K');
  const s1k = await importS1k(opts.s1k);
  opts.onProgress?.('Reading drafts');
  const drafts = opts.drafts ? await importDrafts(opts.drafts) : { drafts: [], errors: [] };
  opts.onProgress?.('Verifying drafts and assembling samples');
  const result = assembleCorpus(s1k.rows, drafts.drafts, opts);
  opts.onProgress?.('Writing corpus');
  await writeFileAtomic(opts.out, sampleLines(result.samples));
  for (const [format, file] of Object.entries(opts.exports ?? {}) as [ExportFormat, string][]) {
    await writeFileAtomic(file, jsonlLines(result.samples.map((s) => exportLine(s, format, opts.preset))));
  }
  const errors = [...s1k.errors, ...drafts.errors];
  return { out: opts.out, summary: { ...result.summary, s1k_format: s1k.format, bad_lines: errors.length }, errors, reported: result.reported };
}
