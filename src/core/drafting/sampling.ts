/**
 * Seeded next-token sampling over one row of logits: temperature, top-k and
 * exact top-p (nucleus), driven by a small deterministic PRNG so that a draft
 * is reproducible from its recorded seed. Pure: no transformers.js here.
 */

export { seededRandom } from '../random';

/** A per-draft seed from the run's seed, the question index and the draft number (FNV-1a, 32 bit). */
export function deriveSeed(baseSeed: number, index: number, sample: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${baseSeed}:${index}:${sample}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function argmax(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i];
    if (v > bestV) { bestV = v; best = i; }
  }
  return best;
}

export interface SamplingParams { temperature: number; topP: number; topK: number }

/**
 * Picks the next token id. temperature <= 0 is greedy (argmax). Otherwise the
 * softmax at the given temperature is restricted to the top-k ids (k > 0),
 * then to the smallest set of most probable ids whose mass reaches top_p (the
 * nucleus, exact, ties broken towards lower ids), and one id is drawn from the
 * renormalised rest. Linear time in the vocabulary (no full sort).
 */
export function sampleToken(logits: ArrayLike<number>, p: SamplingParams, rand: () => number): number {
  const V = logits.length;
  if (!(p.temperature > 0)) return argmax(logits);
  const invT = 1 / p.temperature;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity) return argmax(logits);

  const probs = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) {
    const e = Math.exp((logits[i] - max) * invT);
    probs[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < V; i++) probs[i] *= inv;

  const topK = p.topK > 0 ? Math.min(p.topK, V) : V;
  const topP = p.topP > 0 && p.topP < 1 ? p.topP : 1;
  if (topK === V) {
    if (topP === 1) return drawInOrder(probs, null, 1, rand);
    return sampleNucleus(probs, topP, rand);
  }

  // Top-k by a min-heap (O(V log k)), then sorted descending (ties: lower id first).
  const better = (a: number, b: number) => probs[a] > probs[b] || (probs[a] === probs[b] && a < b);
  const heap = new Int32Array(topK);
  let size = 0;
  const siftUp = (j: number) => {
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (!better(heap[parent], heap[j])) break; // parent is worse: heap order holds (min at top)
      [heap[parent], heap[j]] = [heap[j], heap[parent]];
      j = parent;
    }
  };
  const siftDown = (j: number) => {
    for (;;) {
      const l = 2 * j + 1;
      const r = l + 1;
      let worst = j;
      if (l < size && better(heap[worst], heap[l])) worst = l;
      if (r < size && better(heap[worst], heap[r])) worst = r;
      if (worst === j) return;
      [heap[worst], heap[j]] = [heap[j], heap[worst]];
      j = worst;
    }
  };
  for (let i = 0; i < V; i++) {
    if (size < topK) { heap[size++] = i; siftUp(size - 1); } else if (better(i, heap[0])) { heap[0] = i; siftDown(0); }
  }
  const cand = Array.from(heap.subarray(0, size)).sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  let keep = cand.length;
  if (topP < 1) {
    // As Hugging Face's TopK then TopP warpers: the nucleus is taken over the
    // top-k survivors, renormalised.
    let kept = 0;
    for (const i of cand) kept += probs[i];
    let acc = 0;
    for (let j = 0; j < cand.length; j++) {
      acc += probs[cand[j]] / kept;
      if (acc >= topP) { keep = j + 1; break; }
    }
  }
  let total = 0;
  for (let j = 0; j < keep; j++) total += probs[cand[j]];
  let x = rand() * total;
  for (let j = 0; j < keep; j++) {
    x -= probs[cand[j]];
    if (x < 0) return cand[j];
  }
  return cand[keep - 1];
}

/** Draws one id in index order among the included ids (all when `include` is null). */
function drawInOrder(probs: Float64Array, include: Uint8Array | null, total: number, rand: () => number): number {
  let x = rand() * total;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (include && !include[i]) continue;
    last = i;
    x -= probs[i];
    if (x < 0) return i;
  }
  return last;
}

/**
 * Top-p without top-k: finds the cut-off probability tau of the nucleus by an
 * in-place three-way quickselect on mass (expected linear time), keeps every
 * id above tau and, among ids equal to tau, the lowest ones until the mass is
 * reached (the order a stable descending sort gives), then draws in index
 * order. Same support and probabilities as sorting the vocabulary.
 */
function sampleNucleus(probs: Float64Array, topP: number, rand: () => number): number {
  const V = probs.length;
  const idx = new Int32Array(V);
  for (let i = 0; i < V; i++) idx[i] = i;
  let lo = 0;
  let hi = V;
  let need = topP;
  let tau = 0;
  for (;;) {
    const pivot = probs[idx[lo + ((hi - lo) >> 1)]];
    // Dutch-flag partition of idx[lo, hi): [> pivot | == pivot | < pivot].
    let lt = lo;
    let i = lo;
    let gt = hi;
    let massAbove = 0;
    let massEqual = 0;
    while (i < gt) {
      const v = probs[idx[i]];
      if (v > pivot) { massAbove += v; const t = idx[lt]; idx[lt] = idx[i]; idx[i] = t; lt++; i++; } else if (v < pivot) { gt--; const t = idx[gt]; idx[gt] = idx[i]; idx[i] = t; } else { massEqual += v; i++; }
    }
    if (massAbove >= need && lt > lo) { hi = lt; continue; }
    if (massAbove + massEqual >= need || gt >= hi) { tau = pivot; need -= massAbove; break; }
    need -= massAbove + massEqual;
    lo = gt;
  }
  // `need` is now the mass still wanted from the ids equal to tau, lowest ids first.
  const include = new Uint8Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    const v = probs[i];
    if (v > tau) { include[i] = 1; total += v; } else if (v === tau && need > 0) { include[i] = 1; total += v; need -= v; }
  }
  return drawInOrder(probs, include, total, rand);
}
