/**
 * Types shared by the local-model pieces: the in-process engine, the worker
 * (child process) that hosts it, the client the extension host talks to, and
 * the batch drafter. Pure types and constants: no transformers.js import here.
 */

/** ONNX weight variants in the transformers.js layout (file `onnx/model<suffix>.onnx`). */
export type LocalDtype = 'fp32' | 'fp16' | 'q8' | 'q4';
/** `auto` picks the first variant present, in the order of {@link AUTO_DTYPE_ORDER}. */
export type DtypeSetting = LocalDtype | 'auto';

export const DTYPES: readonly LocalDtype[] = ['fp32', 'fp16', 'q8', 'q4'];
/** CPU preference when the setting is `auto`: small quantised weights first, fp16 (slow on CPU) last. */
export const AUTO_DTYPE_ORDER: readonly LocalDtype[] = ['q4', 'q8', 'fp32', 'fp16'];

export const DTYPE_FILE_SUFFIX: Readonly<Record<LocalDtype, string>> = {
  fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4',
};

/** Path of a variant's ONNX file, relative to the model folder. */
export function onnxFileFor(dtype: LocalDtype): string {
  return `onnx/model${DTYPE_FILE_SUFFIX[dtype]}.onnx`;
}

export function isDtypeSetting(v: string): v is DtypeSetting {
  return v === 'auto' || (DTYPES as readonly string[]).includes(v);
}

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

/** A prompt: chat messages (rendered with the model's chat template) or raw text used as is. */
export type PromptInput = { messages: ChatMessage[] } | { text: string };

export interface GenerateParams {
  /** Upper bound on generated tokens (the stop token counts). */
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus sampling mass in (0, 1]; 1 disables it. */
  topP: number;
  /** 0 disables top-k. Default: the model's generation_config.json, else 0. */
  topK?: number;
  /** Seeds the sampler; equal seeds and inputs give equal drafts. */
  seed: number;
  /** Default: the model's generation_config.json, else 1 (off). */
  repetitionPenalty?: number;
  /** Extra stop token ids on top of `<|im_end|>`, `<|endoftext|>` and the model's eos ids. */
  stopTokenIds?: number[];
}

export const DEFAULT_GENERATE_PARAMS: Readonly<GenerateParams> = {
  maxNewTokens: 512, temperature: 0.7, topP: 0.8, seed: 0,
};

/** One generated token, as streamed. `text` is the new text it completes (may be '' for a special token or a partial UTF-8 character). */
export interface TokenEvent { id: number; text: string; index: number }

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerateResult {
  /** Generated text without special tokens. */
  text: string;
  /** Every generated id, the stop token included. */
  tokenIds: number[];
  promptTokens: number;
  finishReason: FinishReason;
  /** Wall time of the whole call, and of the prompt pass (time to first token). */
  ms: number;
  firstTokenMs: number;
  /** Generated tokens per second after the first token. */
  decodeTokensPerSecond: number;
}

export interface GenerateHooks {
  onToken?: (ev: TokenEvent) => void;
  signal?: AbortSignal;
}

export interface ModelInfo {
  dir: string;
  /** Display name used as the draft's `model` field: the folder name unless config names it. */
  name: string;
  dtype: LocalDtype;
  onnxFile: string;
  modelType: string;
  vocabSize?: number;
  loadMs: number;
  stopTokenIds: number[];
}

/** What the batch drafter needs from a model: the in-process engine and the worker client both provide it. */
export interface DraftModel {
  readonly info: ModelInfo;
  generate(prompt: PromptInput, params: GenerateParams, hooks?: GenerateHooks): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  dtype?: DtypeSetting;
  /** onnxruntime intra-op threads; default: onnxruntime's choice. */
  threads?: number;
  /** Overrides the `model` name recorded in drafts. */
  name?: string;
}

/** A cancelled operation. `code` is 'cancelled'. */
export class CancelledError extends Error {
  readonly code = 'cancelled';
  constructor(message = 'Cancelled.') { super(message); this.name = 'CancelledError'; }
}
