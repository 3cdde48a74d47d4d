/**
 * The in-process local model: one transformers.js causal-LM session on
 * onnxruntime-node, loaded once and reused, with streaming, cancellation,
 * seeded sampling and stop on `<|im_end|>`. The extension host never runs
 * this directly: it runs in the worker process (./worker) behind ./client.
 * The headless `dcd draft` command runs it in-process.
 *
 * transformers.js is imported lazily so that importing this module costs nothing.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkModelFolder, ModelFolderError } from './modelFolder';
import { sampleToken, seededRandom } from './sampling';
import {
  CancelledError, type DraftModel, type GenerateHooks, type GenerateParams, type GenerateResult,
  type LoadOptions, type ModelInfo, type PromptInput, type TokenEvent,
} from './types';

type Tjs = typeof import('@huggingface/transformers');
type Tokenizer = Awaited<ReturnType<Tjs['AutoTokenizer']['from_pretrained']>>;
type CausalLM = Awaited<ReturnType<Tjs['AutoModelForCausalLM']['from_pretrained']>>;

let tjsPromise: Promise<Tjs> | undefined;

/** transformers.js, configured for local folders only (never the Hub, no file cache). */
export function loadTransformers(): Promise<Tjs> {
  tjsPromise ??= import('@huggingface/transformers').then((m) => {
    const mod = ((m as unknown as { default?: Tjs }).default?.env ? (m as unknown as { default: Tjs }).default : m) as Tjs;
    mod.env.allowRemoteModels = false;
    mod.env.allowLocalModels = true;
    mod.env.useFSCache = false;
    mod.env.useBrowserCache = false;
    return mod;
  });
  return tjsPromise;
}

/** Ids generation stops at: `<|im_end|>`, `<|endoftext|>` and the model's eos ids. */
function stopIdsFor(tokenizer: Tokenizer, genConfig: Record<string, unknown>, config: Record<string, unknown>): number[] {
  const ids = new Set<number>();
  const vocab = tokenizer.get_vocab();
  for (const t of ['<|im_end|>', '<|endoftext|>']) {
    const id = vocab.get(t);
    if (id !== undefined) ids.add(id);
  }
  for (const src of [genConfig.eos_token_id, config.eos_token_id]) {
    if (typeof src === 'number') ids.add(src);
    else if (Array.isArray(src)) for (const x of src) if (typeof x === 'number') ids.add(x);
  }
  return [...ids];
}

/** Incremental detokeniser: emits the text each token completes, holding back partial UTF-8 characters. */
class IncrementalDecoder {
  private ids: number[] = [];
  private committed = 0; // ids[0..committed) are fully emitted
  text = '';
  constructor(private readonly tokenizer: Tokenizer) {}
  push(id: number): string {
    this.ids.push(id);
    // Byte-level BPE decodes piecewise once a piece ends on a character boundary.
    const tail = this.tokenizer.decode(this.ids.slice(this.committed), { skip_special_tokens: true });
    if (tail.endsWith('\uFFFD')) return '';
    this.text += tail;
    this.committed = this.ids.length;
    return tail;
  }
  /** Whatever is still held back (a trailing partial character), at the end. */
  flush(): string {
    if (this.committed === this.ids.length) return '';
    const tail = this.tokenizer.decode(this.ids.slice(this.committed), { skip_special_tokens: true });
    this.text += tail;
    this.committed = this.ids.length;
    return tail;
  }
}

export class LocalEngine implements DraftModel {
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    private readonly tjs: Tjs,
    readonly tokenizer: Tokenizer,
    private model: CausalLM | null,
    readonly info: ModelInfo,
    private readonly genDefaults: { topK: number; repetitionPenalty: number },
  ) {}

  /** Checks the folder (named errors), then loads tokenizer and ONNX session once. */
  static async load(dir: string, opts: LoadOptions = {}): Promise<LocalEngine> {
    const t0 = performance.now();
    const check = await checkModelFolder(dir, opts.dtype ?? 'auto');
    const tjs = await loadTransformers();
    let genConfig: Record<string, unknown> = {};
    try {
      genConfig = JSON.parse(await fs.readFile(path.join(check.dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
    } catch { /* optional */ }
    let tokenizer: Tokenizer;
    try {
      tokenizer = await tjs.AutoTokenizer.from_pretrained(check.dir);
    } catch (err) {
      throw new ModelFolderError('corrupt-file', `Cannot load the tokenizer of ${check.dir}: ${(err as Error).message}`, 'tokenizer.json');
    }
    const sessionOptions: Record<string, unknown> = {};
    if (opts.threads && opts.threads > 0) {
      sessionOptions.intraOpNumThreads = opts.threads;
      sessionOptions.interOpNumThreads = 1;
    }
    let model: CausalLM;
    try {
      model = await tjs.AutoModelForCausalLM.from_pretrained(check.dir, {
        dtype: check.dtype, device: 'cpu', session_options: sessionOptions,
      });
    } catch (err) {
      throw new ModelFolderError('corrupt-file',
        `Cannot load ${check.onnxFile} of ${check.dir} in onnxruntime: ${(err as Error).message}`, check.onnxFile);
    }
    const name = opts.name
      ?? (typeof check.config._name_or_path === 'string' && check.config._name_or_path ? check.config._name_or_path : path.basename(check.dir));
    const info: ModelInfo = {
      dir: check.dir, name, dtype: check.dtype, onnxFile: check.onnxFile, modelType: check.modelType,
      vocabSize: typeof check.config.vocab_size === 'number' ? check.config.vocab_size : undefined,
      loadMs: Math.round(performance.now() - t0),
      stopTokenIds: stopIdsFor(tokenizer, genConfig, check.config),
    };
    const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
    return new LocalEngine(tjs, tokenizer, model, info, {
      topK: num(genConfig.top_k, 0), repetitionPenalty: num(genConfig.repetition_penalty, 1),
    });
  }

  /** The prompt text the model sees (chat template applied, generation prompt added). */
  renderPrompt(prompt: PromptInput): string {
    if ('text' in prompt) return prompt.text;
    return this.tokenizer.apply_chat_template(prompt.messages, { tokenize: false, add_generation_prompt: true }) as unknown as string;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false });
  }

  decode(ids: number[], skipSpecial = true): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecial });
  }

  /** Runs one generation; calls are serialised (one session, one generation at a time). */
  generate(prompt: PromptInput, params: GenerateParams, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    const run = this.queue.then(() => this.generateNow(prompt, params, hooks));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generateNow(prompt: PromptInput, params: GenerateParams, hooks: GenerateHooks): Promise<GenerateResult> {
    if (this.disposed || !this.model) throw new Error('The local model has been disposed.');
    const t0 = performance.now();
    const tjs = this.tjs;
    const text = this.renderPrompt(prompt);
    const promptIds = this.encode(text);
    if (promptIds.length === 0) throw new Error('Empty prompt.');
    const signal = hooks.signal;
    const base = { text: '', tokenIds: [] as number[], promptTokens: promptIds.length };
    if (signal?.aborted) {
      return { ...base, finishReason: 'cancelled', ms: 0, firstTokenMs: 0, decodeTokensPerSecond: 0 };
    }

    const temperature = params.temperature;
    const topP = params.topP;
    const topK = params.topK ?? this.genDefaults.topK;
    const rand = seededRandom(params.seed);
    const stopIds = [...new Set([...this.info.stopTokenIds, ...(params.stopTokenIds ?? [])])];

    class SeededSampler extends tjs.LogitsProcessor {
      override _call(_inputIds: bigint[][], logits: InstanceType<Tjs['Tensor']>) {
        const data = logits.data as Float32Array;
        const V = logits.dims[logits.dims.length - 1];
        for (let row = 0; row * V < data.length; row++) {
          const slice = data.subarray(row * V, (row + 1) * V);
          const id = sampleToken(slice, { temperature, topP, topK }, rand);
          slice.fill(-Infinity);
          slice[id] = 0;
        }
        return logits;
      }
    }
    let aborted = false;
    const onAbort = () => { aborted = true; };
    signal?.addEventListener('abort', onAbort, { once: true });
    class AbortCriterion extends tjs.StoppingCriteria {
      override _call(inputIds: number[][]) { return inputIds.map(() => aborted); }
    }

    const decoder = new IncrementalDecoder(this.tokenizer);
    const generated: number[] = [];
    let firstTokenAt = 0;
    let streamError: unknown;
    let seenPrompt = false;
    class Streamer extends tjs.BaseStreamer {
      override put(value: bigint[][]) {
        if (!seenPrompt) { seenPrompt = true; return; }
        const id = Number(value[0][0]);
        if (generated.length === 0) firstTokenAt = performance.now();
        generated.push(id);
        const ev: TokenEvent = { id, text: decoder.push(id), index: generated.length - 1 };
        try {
          hooks.onToken?.(ev);
        } catch (err) {
          streamError ??= err;
          aborted = true;
        }
      }
      override end() { /* flushed below */ }
    }

    const inputIds = new tjs.Tensor('int64', BigInt64Array.from(promptIds.map(BigInt)), [1, promptIds.length]);
    const attentionMask = new tjs.Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]);
    try {
      await this.model.generate({
        input_ids: inputIds,
        attention_mask: attentionMask,
        max_new_tokens: Math.max(1, Math.floor(params.maxNewTokens)),
        do_sample: false,
        num_beams: 1,
        repetition_penalty: params.repetitionPenalty ?? this.genDefaults.repetitionPenalty,
        eos_token_id: stopIds,
        logits_processor: temperature > 0 ? [new SeededSampler()] : null,
        stopping_criteria: [new AbortCriterion()],
        streamer: new Streamer(),
      } as unknown as Parameters<CausalLM['generate']>[0]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (streamError) throw streamError;
    const tail = decoder.flush();
    if (tail && generated.length) hooks.onToken?.({ id: -1, text: tail, index: generated.length });
    const tEnd = performance.now();
    const last = generated[generated.length - 1];
    const finishReason = aborted && signal?.aborted ? 'cancelled'
      : last !== undefined && stopIds.includes(last) ? 'stop' : 'length';
    const decodeSecs = (tEnd - firstTokenAt) / 1000;
    return {
      text: decoder.text,
      tokenIds: generated,
      promptTokens: promptIds.length,
      finishReason,
      ms: Math.round(tEnd - t0),
      firstTokenMs: firstTokenAt ? Math.round(firstTokenAt - t0) : 0,
      decodeTokensPerSecond: generated.length > 1 && decodeSecs > 0 ? (generated.length - 1) / decodeSecs : 0,
    };
  }

  /** Frees the ONNX session; the engine cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.catch(() => undefined);
    const m = this.model;
    this.model = null;
    if (m) await m.dispose();
  }

  /** The raw model call (logits for every position) without a cache: for checks and tests. */
  async logitsNoCache(ids: number[]): Promise<{ data: Float32Array; vocab: number }> {
    if (!this.model) throw new Error('The local model has been disposed.');
    const tjs = this.tjs;
    const input_ids = new tjs.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const attention_mask = new tjs.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    const out = await (this.model as unknown as (x: unknown) => Promise<{ logits: InstanceType<Tjs['Tensor']> }>)({ input_ids, attention_mask });
    return { data: out.logits.data as Float32Array, vocab: out.logits.dims[out.logits.dims.length - 1] };
  }
}

export { CancelledError };
