/**
 * The token engine: ids from Hugging Face's tokenizers.js (the library that
 * @huggingface/transformers wraps; imported on its own so this path never
 * loads onnxruntime) plus what that library lacks: character offsets, and
 * caches that make a DCD corpus cheap to tokenize.
 *
 * The library builds the pieces from `tokenizer.json` (normalizer,
 * pre-tokenizer regex, BPE merges, added tokens); this module drives them:
 *
 * 1. Added tokens split the text first (`<|im_start|>`, `<|im_end|>`, …), as in
 *    the library and the Rust tokenizer: leftmost, longest.
 * 2. Each stretch between added tokens is cut into chunks at *safe boundaries*:
 *    a position right after `\n` whose next character is printable ASCII. No
 *    match of the Qwen2 / Llama 3 pre-tokenizer regex can span such a position
 *    (every alternative either excludes `\n` or ends with it, and the next
 *    character is not whitespace), NFC cannot compose across it (`\n` is a
 *    starter that composes with nothing), and nothing in the regex looks behind.
 *    So tokenizing chunk by chunk gives exactly the ids of the whole stretch;
 *    the unit tests check this against the Rust tokenizer. Chunks are cached by
 *    content: the chain that a draft-correct sample shares with every
 *    draft-wrong sample of its question, the system prompt and the fixed
 *    sentences are tokenized once.
 * 3. Inside a chunk: NFC, the pre-tokenizer regex, then a per-word cache in
 *    front of the library's BPE.
 *
 * Offsets are UTF-16 [start, end) ranges in the original text. They are
 * rebuilt from the byte-level token strings (one character per UTF-8 byte) and,
 * where NFC changed the text, mapped back through the composed characters: a
 * token covers every original code unit of the characters it touches, so
 * `text.slice(start, end)` normalises to the token's string. Tokens that split
 * one character's bytes (some emoji, CJK) share that character's range, as in
 * the Rust tokenizer.
 */
import { ownCopy } from '../ownCopy';
import {
  Tokenizer, BPE, SequencePreTokenizer, SplitPreTokenizer, ByteLevelPreTokenizer, NFCNormalizer,
} from '@huggingface/tokenizers';

/** Token ids and UTF-16 offsets (two per token: start, end). */
export interface Encoded {
  ids: Int32Array;
  offsets: Int32Array;
}

export interface EngineOptions {
  /** Chunk cache budget in tokens (the cache is emptied when it fills). Default 4M tokens; 0 disables it. */
  chunkCacheTokens?: number;
  /** Word cache size in entries (emptied when full). Default 500k. */
  wordCacheEntries?: number;
}

/** Pre-tokenizer patterns for which chunking at safe boundaries is proven exact (Qwen2/2.5/3, Llama 3). */
const SAFE_SPLIT_PATTERNS = new Set([
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
]);

/** Chunks end at the first safe boundary after this many code units. */
const MIN_CHUNK = 48;

/**
 * Pre-tokens longer than this are cut before BPE. The library's BPE is
 * superlinear in the length of one pre-token and, for a run of megabytes
 * without whitespace, exhausts the stack; no pre-token of real text comes near
 * this length (words, numbers and punctuation runs are short), so ids of
 * normal text are exactly the reference's. Cuts fall between code points.
 */
export const MAX_PRETOKEN = 1024;

/** GPT-2's byte-to-unicode table: the byte-level alphabet of the vocabulary. */
const BYTE_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  }
  const table = new Array<string>(256);
  for (let i = 0; i < bs.length; i++) table[bs[i]] = String.fromCharCode(cs[i]);
  return table;
})();

/** A word seen before: one id covering the whole word, or several ids with offsets relative to the word. */
type WordEntry = number | { ids: Int32Array; rel: Int32Array };

interface ChunkEntry { ids: Int32Array; offsets: Int32Array }


/** Why a tokenizer.json cannot be driven by this engine. */
export class UnsupportedTokenizerError extends Error {
  constructor(message: string) { super(`Unsupported tokenizer: ${message} DCD Studio needs a byte-level BPE tokenizer such as Qwen2.5's.`); this.name = 'UnsupportedTokenizerError'; }
}

/** Growable id/offset buffers. */
class TokenBuffer {
  ids: Int32Array;
  offsets: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.ids = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity * 2);
  }
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.ids.length) return;
    let cap = this.ids.length * 2;
    while (cap < need) cap *= 2;
    const ids = new Int32Array(cap);
    ids.set(this.ids.subarray(0, this.length));
    const offsets = new Int32Array(cap * 2);
    offsets.set(this.offsets.subarray(0, this.length * 2));
    this.ids = ids;
    this.offsets = offsets;
  }
  push(id: number, start: number, end: number): void {
    if (this.length === this.ids.length) this.reserve(1);
    const n = this.length++;
    this.ids[n] = id;
    this.offsets[2 * n] = start;
    this.offsets[2 * n + 1] = end;
  }
  append(chunk: ChunkEntry, base: number): void {
    const k = chunk.ids.length;
    this.reserve(k);
    const n = this.length;
    this.ids.set(chunk.ids, n);
    const off = this.offsets;
    const src = chunk.offsets;
    for (let i = 0, j = 2 * n; i < 2 * k; i++, j++) off[j] = src[i] + base;
    this.length += k;
  }
  take(): Encoded {
    return { ids: this.ids.slice(0, this.length), offsets: this.offsets.slice(0, this.length * 2) };
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const TEXT_ENCODER = new TextEncoder();
const MARK = /^[\p{M}\u1160-\u11ff]$/u;

interface TokenizerJsonShape {
  model?: { type?: string; continuing_subword_prefix?: string | null; end_of_word_suffix?: string | null; byte_fallback?: boolean; dropout?: number | null };
  added_tokens?: Array<{ id: number; content: string; lstrip?: boolean; rstrip?: boolean; normalized?: boolean; single_word?: boolean }>;
  pre_tokenizer?: { type?: string; pretokenizers?: Array<{ type?: string; pattern?: { Regex?: string } }> } | null;
}

export class TokenEngine {
  /** The library tokenizer the pieces come from (also the reference for parity tests). */
  readonly lib: Tokenizer;
  /** Largest id + 1, added tokens included (151665 for Qwen2.5). */
  readonly vocabSize: number;
  /** Chunk-cache counters since construction. */
  readonly stats = { chunkHits: 0, chunkMisses: 0, wordMisses: 0 };

  private readonly added = new Map<string, number>();
  private readonly addedRe: RegExp | null;
  private readonly preRe: RegExp | null;
  private readonly nfc: boolean;
  private readonly safeChunks: boolean;
  private readonly bpe: BPE;
  private readonly vocab: Map<string, number>;
  private readonly unkId: number | undefined;
  private readonly ignoreMerges: boolean;
  private readonly chunkBudget: number;
  private readonly wordBudget: number;
  private words = new Map<string, WordEntry>();
  private chunks = new Map<string, ChunkEntry>();
  private chunkTokens = 0;
  private readonly scratch = new TokenBuffer(4096);

  constructor(tokenizerJson: string | object, configJson: string | object = {}, opts: EngineOptions = {}) {
    const tj = (typeof tokenizerJson === 'string' ? JSON.parse(tokenizerJson) : tokenizerJson) as TokenizerJsonShape;
    const cfg = typeof configJson === 'string' ? JSON.parse(configJson) as object : configJson;
    this.lib = new Tokenizer(tj, cfg);
    this.chunkBudget = opts.chunkCacheTokens ?? 4_000_000;
    this.wordBudget = opts.wordCacheEntries ?? 500_000;

    const model = this.lib.model;
    if (!(model instanceof BPE)) throw new UnsupportedTokenizerError(`the model is ${tj.model?.type ?? 'unknown'}, not BPE.`);
    if (tj.model?.continuing_subword_prefix || tj.model?.end_of_word_suffix || tj.model?.byte_fallback || tj.model?.dropout) {
      throw new UnsupportedTokenizerError('BPE with subword prefixes/suffixes, byte fallback or dropout.');
    }
    this.bpe = model;
    this.vocab = model.tokens_to_ids;
    this.unkId = model.unk_token_id;
    this.ignoreMerges = model.ignore_merges;
    this.vocabSize = model.vocab.length;

    const addedContents: string[] = [];
    for (const t of tj.added_tokens ?? []) {
      if (t.lstrip || t.rstrip || t.single_word || t.normalized) {
        throw new UnsupportedTokenizerError(`added token ${JSON.stringify(t.content)} uses lstrip/rstrip/single_word/normalized.`);
      }
      this.added.set(t.content, t.id);
      addedContents.push(t.content);
    }
    // Longest first: at a given position the regex then picks the longest token (leftmost-longest, as the library's trie).
    addedContents.sort((a, b) => b.length - a.length);
    this.addedRe = addedContents.length ? new RegExp(addedContents.map(escapeRegExp).join('|'), 'g') : null;

    const norm = this.lib.normalizer;
    if (norm !== null && !(norm instanceof NFCNormalizer)) throw new UnsupportedTokenizerError('the normalizer is not NFC.');
    this.nfc = norm !== null;

    const pre = this.lib.pre_tokenizer;
    let preRe: RegExp | null = null;
    let rawPattern: string | undefined;
    if (pre instanceof SequencePreTokenizer && pre.tokenizers.length === 2
      && pre.tokenizers[0] instanceof SplitPreTokenizer && pre.tokenizers[1] instanceof ByteLevelPreTokenizer) {
      const split = pre.tokenizers[0];
      const bl = pre.tokenizers[1];
      if (split.config.behavior !== 'Isolated' || split.config.invert || bl.use_regex || bl.add_prefix_space) {
        throw new UnsupportedTokenizerError('a Split pre-tokenizer that is not "Isolated", or a ByteLevel one with its own regex.');
      }
      preRe = split.pattern;
      rawPattern = tj.pre_tokenizer?.pretokenizers?.[0]?.pattern?.Regex;
    } else if (pre instanceof ByteLevelPreTokenizer && !pre.add_prefix_space) {
      preRe = pre.use_regex ? pre.pattern : null;
    } else {
      throw new UnsupportedTokenizerError('the pre-tokenizer is not ByteLevel (optionally after a Split).');
    }
    this.preRe = preRe;
    this.safeChunks = rawPattern !== undefined && SAFE_SPLIT_PATTERNS.has(rawPattern);
  }

  /** Ids and offsets of a text; no special tokens are added (a DCD trace carries its own). */
  encode(text: string): Encoded {
    const out = new TokenBuffer(Math.max(16, text.length >> 2));
    let last = 0;
    if (this.addedRe) {
      for (const m of text.matchAll(this.addedRe)) {
        const at = m.index;
        if (at > last) this.encodeStretch(text, last, at, out);
        out.push(this.added.get(m[0]) as number, at, at + m[0].length);
        last = at + m[0].length;
      }
    }
    if (last < text.length) this.encodeStretch(text, last, text.length, out);
    return out.take();
  }

  /** Ids only. */
  encodeIds(text: string): Int32Array {
    return this.encode(text).ids;
  }

  /** Empties the chunk and word caches. */
  clearCaches(): void {
    this.chunks = new Map();
    this.chunkTokens = 0;
    this.words = new Map();
  }

  /** Text between two added tokens: cut at safe boundaries into cached chunks. */
  private encodeStretch(text: string, a: number, b: number, out: TokenBuffer): void {
    if (!this.safeChunks) { this.encodeChunkCached(text.slice(a, b), a, out); return; }
    let start = a;
    let from = a;
    for (;;) {
      const nl = text.indexOf('\n', Math.max(from, start + MIN_CHUNK - 1));
      if (nl < 0 || nl + 1 >= b) break;
      const c = text.charCodeAt(nl + 1);
      if (c >= 0x21 && c <= 0x7e) {
        this.encodeChunkCached(text.slice(start, nl + 1), start, out);
        start = nl + 1;
      }
      from = nl + 1;
    }
    this.encodeChunkCached(text.slice(start, b), start, out);
  }

  private encodeChunkCached(chunk: string, base: number, out: TokenBuffer): void {
    if (this.chunkBudget <= 0) { out.append(this.encodeChunk(chunk), base); return; }
    let entry = this.chunks.get(chunk);
    if (entry) this.stats.chunkHits++;
    else {
      this.stats.chunkMisses++;
      entry = this.encodeChunk(chunk);
      if (this.chunkTokens + entry.ids.length > this.chunkBudget) { this.chunks = new Map(); this.chunkTokens = 0; }
      this.chunks.set(ownCopy(chunk), entry);
      this.chunkTokens += entry.ids.length;
    }
    out.append(entry, base);
  }

  /** One chunk (no added tokens inside): NFC, pre-tokenize, BPE through the word cache. Offsets relative to the chunk. */
  private encodeChunk(chunk: string): ChunkEntry {
    const norm = this.nfc ? chunk.normalize('NFC') : chunk;
    const buf = this.scratch;
    buf.length = 0;
    const pieces = this.preRe ? norm.match(this.preRe) : [norm];
    let covered = 0;
    if (pieces) for (const p of pieces) covered += p.length;
    if (pieces && covered === norm.length) {
      let pos = 0;
      for (const piece of pieces) {
        this.pushWord(piece, pos, buf);
        pos += piece.length;
      }
    } else {
      // Some text matched no alternative: the library keeps such gaps as pieces of their own.
      this.pieceByPiece(norm, buf);
    }
    const res = buf.take();
    if (norm !== chunk) res.offsets = mapThroughNormalization(chunk, norm, res.offsets);
    return res;
  }

  private pieceByPiece(norm: string, buf: TokenBuffer): void {
    const re = this.preRe as RegExp;
    let prev = 0;
    for (const m of norm.matchAll(re)) {
      if (prev < m.index) this.pushWord(norm.slice(prev, m.index), prev, buf);
      if (m[0].length > 0) this.pushWord(m[0], m.index, buf);
      prev = m.index + m[0].length;
    }
    if (prev < norm.length) this.pushWord(norm.slice(prev), prev, buf);
  }

  private pushWord(piece: string, pos: number, buf: TokenBuffer): void {
    if (piece.length > MAX_PRETOKEN) {
      for (let at = 0; at < piece.length;) {
        let end = Math.min(piece.length, at + MAX_PRETOKEN);
        const c = piece.charCodeAt(end - 1);
        if (end < piece.length && c >= 0xd800 && c <= 0xdbff) end--; // keep a surrogate pair whole
        this.pushWord(piece.slice(at, end), pos + at, buf);
        at = end;
      }
      return;
    }
    let e = this.words.get(piece);
    if (e === undefined) {
      e = this.bpeWord(piece);
      if (this.words.size >= this.wordBudget) this.words = new Map();
      this.words.set(ownCopy(piece), e);
    }
    if (typeof e === 'number') {
      buf.push(e, pos, pos + piece.length);
      return;
    }
    const { ids, rel } = e;
    for (let k = 0; k < ids.length; k++) buf.push(ids[k], pos + rel[2 * k], pos + rel[2 * k + 1]);
  }

  /** BPE of one pre-token through the library; offsets of each token relative to the pre-token. */
  private bpeWord(piece: string): WordEntry {
    this.stats.wordMisses++;
    const ascii = isAscii(piece);
    let bl = '';
    let bytes: Uint8Array | null = null;
    if (ascii) {
      for (let i = 0; i < piece.length; i++) bl += BYTE_CHAR[piece.charCodeAt(i)];
    } else {
      bytes = TEXT_ENCODER.encode(piece);
      for (let i = 0; i < bytes.length; i++) bl += BYTE_CHAR[bytes[i]];
    }
    const toks = this.ignoreMerges && this.vocab.has(bl) ? [bl] : this.bpe.bpe(bl);
    if (toks.length === 1) {
      const id = this.vocab.get(toks[0]) ?? this.unkId;
      if (id !== undefined) return id;
    }
    // UTF-16 start/end of the character that holds each byte.
    let u16Start: Int32Array | null = null;
    let u16End: Int32Array | null = null;
    if (bytes) {
      u16Start = new Int32Array(bytes.length);
      u16End = new Int32Array(bytes.length);
      let b = 0;
      for (let i = 0; i < piece.length;) {
        const cp = piece.codePointAt(i) as number;
        const units = cp > 0xffff ? 2 : 1;
        const nb = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        for (let k = 0; k < nb; k++) { u16Start[b + k] = i; u16End[b + k] = i + units; }
        b += nb;
        i += units;
      }
    }
    const ids: number[] = [];
    const rel: number[] = [];
    let byte = 0;
    for (const t of toks) {
      const b0 = byte;
      byte += t.length; // one byte-level character per byte
      const id = this.vocab.get(t) ?? this.unkId;
      if (id === undefined) continue; // the library drops pieces it cannot map when there is no unk token
      ids.push(id);
      if (u16Start && u16End) rel.push(u16Start[b0], u16End[byte - 1]);
      else rel.push(b0, byte);
    }
    return { ids: Int32Array.from(ids), rel: Int32Array.from(rel) };
  }
}

/**
 * Maps offsets in the NFC form of `orig` back to `orig`. The original is cut
 * into clusters (a character and the combining marks or Hangul vowel/final
 * jamo after it); if normalising cluster by cluster gives the same text, every
 * normalised unit maps to its whole cluster. Otherwise (never seen in practice)
 * every token maps to the whole chunk.
 */
function mapThroughNormalization(orig: string, norm: string, offsets: Int32Array): Int32Array {
  const startMap = new Int32Array(norm.length + 1);
  const endMap = new Int32Array(norm.length + 1);
  let ok = true;
  let n = 0;
  let cs = 0;
  const flush = (ce: number): void => {
    if (!ok || ce <= cs) return;
    const piece = orig.slice(cs, ce).normalize('NFC');
    if (!norm.startsWith(piece, n)) { ok = false; return; }
    for (let k = 0; k < piece.length; k++) { startMap[n + k] = cs; endMap[n + k + 1] = ce; }
    n += piece.length;
  };
  for (let i = 0; i < orig.length && ok;) {
    const cp = orig.codePointAt(i) as number;
    const units = cp > 0xffff ? 2 : 1;
    if (i > cs && !MARK.test(String.fromCodePoint(cp))) { flush(i); cs = i; }
    i += units;
  }
  flush(orig.length);
  const out = new Int32Array(offsets.length);
  if (!ok || n !== norm.length) {
    for (let k = 0; k < out.length; k += 2) { out[k] = 0; out[k + 1] = orig.length; }
    return out;
  }
  for (let k = 0; k < out.length; k += 2) {
    out[k] = startMap[offsets[k]];
    out[k + 1] = endMap[offsets[k + 1]];
  }
  return out;
}
