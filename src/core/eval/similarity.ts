/**
 * Word n-gram similarity between questions, exact (no sampling): an inverted
 * index from n-gram to the corpus questions that contain it. Used for the
 * eval drill-down ("training questions most like this eval question") and
 * for the contamination check (benchmark questions vs corpus questions).
 *
 * Text is NFKC-normalised and lower-cased; tokens are runs of letters or
 * digits (LaTeX commands keep their names, punctuation and `$` are dropped),
 * so "$a,$ $b,$" and "a, b" tokenise alike. A text shorter than n tokens
 * contributes one n-gram made of all its tokens.
 *
 * Scores for a query q against a corpus question d, with G(x) the set of
 * n-grams of x and s = |G(q) ∩ G(d)|:
 *   containment = s / |G(q)|   (how much of the eval question appears in d;
 *                               the contamination score)
 *   jaccard     = s / |G(q) ∪ G(d)|
 */

export const DEFAULT_NGRAM = 8;

const TOKEN_RE = /[\p{L}\p{N}]+/gu;

export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(TOKEN_RE) ?? [];
}

const SEP = '\u0001';

/** The set of word n-grams of a text (as joined strings). */
export function ngramSet(text: string, n = DEFAULT_NGRAM): Set<string> {
  return ngramSetOfTokens(tokenize(text), n);
}

/** The set of word n-grams of tokenized text (ngramSet without tokenizing twice). */
export function ngramSetOfTokens(toks: readonly string[], n = DEFAULT_NGRAM): Set<string> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`);
  const out = new Set<string>();
  if (toks.length === 0) return out;
  if (toks.length < n) {
    out.add(toks.join(SEP));
    return out;
  }
  for (let i = 0; i + n <= toks.length; i++) {
    let g = toks[i];
    for (let j = 1; j < n; j++) g += SEP + toks[i + j];
    out.add(g);
  }
  return out;
}

/** Adds 1 to counts[d] for every gram's posting d; returns the postings touched (counts were 0 before; the caller zeroes them again). */
export function countShared(grams: Iterable<string>, postings: ReadonlyMap<string, readonly number[]>, counts: Int32Array): number[] {
  const touched: number[] = [];
  for (const g of grams) {
    const list = postings.get(g);
    if (!list) continue;
    for (const d of list) {
      if (counts[d] === 0) touched.push(d);
      counts[d]++;
    }
  }
  return touched;
}

export interface SimilarityMatch {
  /** Index of the corpus question (first occurrence, when the corpus repeats it). */
  index: number;
  /** Number of corpus entries with this same question (after normalisation). */
  copies: number;
  shared: number;
  containment: number;
  jaccard: number;
}

/** An exact inverted n-gram index over corpus questions. Identical questions (after normalisation) are indexed once. */
export class NgramIndex {
  readonly n: number;
  readonly size: number;
  /** Unique documents: the first corpus index and the number of copies. */
  private readonly docs: Array<{ index: number; copies: number; grams: number }> = [];
  private readonly postings = new Map<string, number[]>();
  private counts: Int32Array;

  constructor(corpus: readonly string[], n = DEFAULT_NGRAM) {
    this.n = n;
    this.size = corpus.length;
    const seen = new Map<string, number>();
    corpus.forEach((text, index) => {
      const key = tokenize(text).join(' ');
      const dup = seen.get(key);
      if (dup !== undefined) {
        this.docs[dup].copies++;
        return;
      }
      const grams = ngramSet(text, n);
      const id = this.docs.length;
      seen.set(key, id);
      this.docs.push({ index, copies: 1, grams: grams.size });
      for (const g of grams) {
        const list = this.postings.get(g);
        if (list) list.push(id);
        else this.postings.set(g, [id]);
      }
    });
    this.counts = new Int32Array(this.docs.length);
  }

  /** Number of distinct questions indexed. */
  get uniqueSize(): number {
    return this.docs.length;
  }

  /** The k corpus questions sharing most of the query's n-grams (containment, then Jaccard, then index). Questions sharing none are not listed. */
  query(text: string, k = 5): SimilarityMatch[] {
    const grams = ngramSet(text, this.n);
    if (grams.size === 0 || k <= 0) return [];
    const counts = this.counts;
    const touched = countShared(grams, this.postings, counts);
    const out: SimilarityMatch[] = touched.map((d) => {
      const shared = counts[d];
      const doc = this.docs[d];
      return {
        index: doc.index,
        copies: doc.copies,
        shared,
        containment: shared / grams.size,
        jaccard: shared / (grams.size + doc.grams - shared),
      };
    });
    for (const d of touched) counts[d] = 0;
    out.sort((a, b) => b.containment - a.containment || b.jaccard - a.jaccard || a.index - b.index);
    return out.slice(0, k);
  }
}
