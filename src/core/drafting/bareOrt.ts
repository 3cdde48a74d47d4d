/**
 * A bare onnxruntime-node greedy decoder for the same ONNX files: the
 * reference that transformers.js is measured against (bench/onnx.ts) and
 * checked against (tests). It feeds the KV cache exactly as transformers.js
 * does (present.* of one step become past_key_values.* of the next) and picks
 * the argmax in plain JS; `useCache: false` recomputes the whole sequence each
 * step instead. Not used by the extension at run time.
 */
import * as ort from 'onnxruntime-node';
import { argmax } from './sampling';

export interface BareRunResult {
  ids: number[];
  ms: number;
  firstTokenMs: number;
  /** Tokens per second after the first token. */
  decodeTokensPerSecond: number;
}

export class BareOrtGreedy {
  private constructor(private session: ort.InferenceSession | null, private readonly pastNames: string[], private readonly pastShape: Map<string, number[]>) {}

  static async load(onnxPath: string, opts: { threads?: number } = {}): Promise<BareOrtGreedy> {
    const so: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], logSeverityLevel: 3 };
    if (opts.threads) { so.intraOpNumThreads = opts.threads; so.interOpNumThreads = 1; }
    const session = await ort.InferenceSession.create(onnxPath, so);
    const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
    const pastShape = new Map<string, number[]>();
    for (const m of session.inputMetadata) {
      if (!pastNames.includes(m.name) || !m.isTensor) continue;
      // Symbolic dims: batch → 1, past length → 0 (an empty first-step cache).
      pastShape.set(m.name, m.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : 0)));
    }
    return new BareOrtGreedy(session, pastNames, pastShape);
  }

  private emptyPast(): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const n of this.pastNames) {
      const shape = this.pastShape.get(n)!;
      feeds[n] = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    }
    return feeds;
  }

  private async step(ids: number[], positionStart: number, past: Record<string, ort.Tensor>) {
    const s = this.session;
    if (!s) throw new Error('disposed');
    const total = positionStart + ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      ...past,
    };
    if (s.inputNames.includes('position_ids')) {
      const pos = new BigInt64Array(ids.length);
      for (let i = 0; i < ids.length; i++) pos[i] = BigInt(positionStart + i);
      feeds.position_ids = new ort.Tensor('int64', pos, [1, ids.length]);
    }
    if (s.inputNames.includes('num_logits_to_keep')) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.from([1n]), []);
    const out = await s.run(feeds);
    const logits = out.logits;
    const V = logits.dims[logits.dims.length - 1];
    const data = logits.data as Float32Array;
    const next = argmax(data, data.length - V, V);
    const present: Record<string, ort.Tensor> = {};
    for (const n of this.pastNames) present[n] = out[n.replace('past_key_values.', 'present.')];
    return { next, present };
  }

  /** Greedy decoding of `maxNew` tokens (stops early at a stop id, which is included). */
  async generate(promptIds: number[], maxNew: number, opts: { useCache?: boolean; stopIds?: number[] } = {}): Promise<BareRunResult> {
    const useCache = opts.useCache ?? true;
    const stop = new Set(opts.stopIds ?? []);
    const t0 = performance.now();
    let firstAt = 0;
    const seq = [...promptIds];
    const out: number[] = [];
    let past = this.emptyPast();
    let pending = promptIds;
    for (let i = 0; i < maxNew; i++) {
      const r = useCache
        ? await this.step(pending, seq.length - pending.length, past)
        : await this.step(seq, 0, this.emptyPast());
      if (i === 0) firstAt = performance.now();
      out.push(r.next);
      seq.push(r.next);
      past = r.present;
      pending = [r.next];
      if (stop.has(r.next)) break;
    }
    const end = performance.now();
    const secs = (end - firstAt) / 1000;
    return {
      ids: out, ms: end - t0, firstTokenMs: firstAt - t0,
      decodeTokensPerSecond: out.length > 1 && secs > 0 ? (out.length - 1) / secs : 0,
    };
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.release();
  }
}
