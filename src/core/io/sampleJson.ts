/**
 * Fast JSONL lines for corpus samples. A row's long teacher chain appears in
 * every sample of that row, twice (`chain` and inside `text`); escaping it for
 * JSON once and reusing the encoded bytes makes writing a corpus several times
 * faster. The bytes are exactly `JSON.stringify(sample) + "\n"`: JSON escaping
 * is per character, so a string's escape is the concatenation of its parts'.
 */
import { randomBytes } from 'node:crypto';
import { TEXT_PARTS, type TextParts } from '../corpus/assemble';

/** Chains shorter than this are serialised the plain way. */
const MIN_SHARED = 1024;

export class SampleLineEncoder {
  private readonly sentinel = `\u0000dcd-${randomBytes(6).toString('hex')}\u0000`;
  private readonly escapedSentinel = JSON.stringify(this.sentinel).slice(1, -1);
  private lastChain: string | undefined;
  private lastChainBytes: Buffer | undefined;

  /** One JSONL line (with its newline) as bytes. */
  encode(sample: { chain?: unknown; text?: unknown }): Buffer {
    return Buffer.concat(this.parts(sample).map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  }

  /**
   * One JSONL line (with its newline) as parts whose concatenation is the
   * line's UTF-8: strings, and the row's shared escaped-chain bytes (the same
   * Buffer for every sample of a row: do not modify it).
   */
  parts(sample: { chain?: unknown; text?: unknown }): (string | Buffer)[] {
    const chain = sample.chain;
    if (typeof chain !== 'string' || chain.length < MIN_SHARED) return [JSON.stringify(sample) + '\n'];
    const chainBytes = this.chainBytes(chain);
    const text = sample.text;
    const sentinel = this.sentinel;
    let textWithSentinel: string | undefined;
    // Fresh samples carry the text's parts, so the long text is never flattened or searched.
    const parts = (sample as { [TEXT_PARTS]?: TextParts })[TEXT_PARTS];
    if (parts && parts.text === text && parts.chain === chain) textWithSentinel = parts.before + sentinel + parts.after;
    else if (typeof text === 'string') {
      const at = text.lastIndexOf(chain);
      if (at >= 0) textWithSentinel = text.slice(0, at) + sentinel + text.slice(at + chain.length);
    }
    const json = JSON.stringify(sample, (key, value) => {
      if (key === 'chain' && value === chain) return sentinel;
      if (key === 'text' && value === text && textWithSentinel !== undefined) return textWithSentinel;
      return value;
    });
    const out: (string | Buffer)[] = [];
    json.split(this.escapedSentinel).forEach((part, i) => {
      if (i > 0) out.push(chainBytes);
      out.push(part);
    });
    out.push('\n');
    return out;
  }

  private chainBytes(chain: string): Buffer {
    if (chain !== this.lastChain) {
      this.lastChain = chain;
      this.lastChainBytes = Buffer.from(JSON.stringify(chain).slice(1, -1));
    }
    return this.lastChainBytes!;
  }
}

/** The samples as JSONL chunks (strings and shared byte runs), for writeFileAtomic. */
export function* sampleLines(samples: Iterable<{ chain?: unknown; text?: unknown }>): Generator<string | Buffer> {
  const encoder = new SampleLineEncoder();
  for (const s of samples) yield* encoder.parts(s);
}
