/**
 * The eval webviews' requests that name a file to open. They live apart from
 * the panels (no vscode here) so that the refusal of a URI the view was never
 * sent can be tested without an extension host; the panels pass in what
 * actually opens the file.
 */
import type { RequestHandlers } from '../core/protocols/endpoint';
import {
  WORKSPACE_CORPUS, type EvalCompareCandidate, type EvalComparison, type EvalSamplesHostApi, type ResultsHostApi, type ResultsViewState, type SimilarResult,
} from '../core/protocols/eval';
import type { OfferedUris } from '../core/protocols/offeredUris';

/** Every URI the Results view state links to (results files and sample logs). */
export function resultsStateUris(s: ResultsViewState): string[] {
  return s.runs.flatMap((r) => [...r.files.map((f) => f.uri), ...r.samples.map((x) => x.uri)]);
}

export interface ResultsOpeners {
  samples(uri: string): PromiseLike<unknown>;
  file(uri: string): PromiseLike<unknown>;
  /** Shows the lineage of a results file (the Lineage feature's command). */
  lineage(uri: string): PromiseLike<unknown>;
}

export function resultsUriHandlers(offered: OfferedUris, open: ResultsOpeners): Pick<RequestHandlers<ResultsHostApi>, 'openSamples' | 'openFile' | 'showLineage'> {
  return {
    openSamples: async ({ uri }) => { await open.samples(offered.check(uri)); return {}; },
    openFile: async ({ uri }) => { await open.file(offered.check(uri)); return {}; },
    showLineage: async ({ uri }) => { await open.lineage(offered.check(uri)); return {}; },
  };
}

export interface SamplesOpeners {
  similar(line: number, corpus: string): Promise<SimilarResult>;
  corpusSample(uri: string, index: number): PromiseLike<unknown>;
}

export function samplesUriHandlers(offered: OfferedUris, open: SamplesOpeners): Pick<RequestHandlers<EvalSamplesHostApi>, 'similar' | 'openCorpusSample'> {
  return {
    similar: async ({ line, corpus }) => {
      const result = await open.similar(line, corpus === WORKSPACE_CORPUS ? corpus : offered.check(corpus));
      // The matches are what the view offers to open next.
      offered.offerAll(result.matches.map((m) => m.uri));
      return result;
    },
    openCorpusSample: async ({ uri, index }) => { await open.corpusSample(offered.check(uri), index); return {}; },
  };
}

export interface CompareOpeners {
  /** Logs the view may compare with. */
  candidates(): Promise<EvalCompareCandidate[]>;
  /** Compares with the log at `uri` (already checked). */
  compare(uri: string): Promise<EvalComparison>;
}

/** `compareCandidates` offers the candidates' URIs; `compareWith` accepts only those (or the current comparison's). */
export function compareUriHandlers(offered: OfferedUris, open: CompareOpeners): Pick<RequestHandlers<EvalSamplesHostApi>, 'compareCandidates' | 'compareWith'> {
  return {
    compareCandidates: async () => {
      const list = await open.candidates();
      offered.offerAll(list.map((c) => c.uri));
      return list;
    },
    compareWith: async ({ uri }) => open.compare(offered.check(uri)),
  };
}
