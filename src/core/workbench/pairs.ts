/** Draft-correct / draft-wrong pairs of the workbench: the samples of one question, grouped. */
import type { CorpusDocument } from './document';

export interface PairGroup {
  questionKey: string;
  correct: number[];
  wrong: number[];
}

/** Questions with a draft-correct and a draft-wrong sample, in order of first appearance. */
export function pairGroups(doc: CorpusDocument): PairGroup[] {
  const groups = new Map<string, PairGroup>();
  for (const e of doc.rows()) {
    const s = doc.info(e);
    if (s.kind !== 'sample' || (s.verdict !== 'correct' && s.verdict !== 'incorrect')) continue;
    let g = groups.get(s.questionKey);
    if (!g) groups.set(s.questionKey, (g = { questionKey: s.questionKey, correct: [], wrong: [] }));
    (s.verdict === 'correct' ? g.correct : g.wrong).push(e.key);
  }
  return [...groups.values()].filter((g) => g.correct.length && g.wrong.length);
}
