/**
 * Fast JSONL lines for corpus samples. A row's long teacher chain appears in
 * every sample of that row, twice (`chain` and inside `text`); escaping it for
 * JSON once and reusing the encoded bytes makes writing a corpus several times
 * faster. The bytes are exactly `JSON.stringify(sample) + "\n"`: JSON escaping
 * is per character, so a string's escape is the concatenation of its parts'.
 */
import { randomBytes } from 'node:crypto';

/** Chains shorter than this are serialised the plain way. */
const MIN_SHARED = 1024;

export class SampleLineEncoder {
  private readonly sentinel = `\u0000dcd-${randomBytes(6).toString('hex')}\u0000`;
  private readonly escapedSentinel = JSON.stringify(this.sentinel).slice(1, -1);
  private lastChain: string | undefined;
  private lastChainBytes: Buffer | undefined;

  /** One JSONL line (with its newline) as bytes. */
  encode(sample: { chain?: unknown; text?: unknown }): Buffer {
    const chain = sample.chain;
    if (typeof chain !== 'string' || chain.length < MIN_SHARED) return Buffer.from(JSON.stringify(sample) + '\n');
    const chainBytes = this.chainBytes(chain);
    const text = sample.text;
    const at = typeof text === 'string' ? text.lastIndexOf(chain) : -1;
    const sentinel = this.sentinel;
    const json = JSON.stringify(sample, (key, value) => {
      if (key === 'chain' && value === chain) return sentinel;
      if (key === 'text' && value === text && at >= 0) return (text as string).slice(0, at) + sentinel + (text as string).slice(at + chain.length);
      return value;
    });
    const parts = json.split(this.escapedSentinel);
    const chunks: Buffer[] = [];
    parts.forEach((part, i) => {
      if (i > 0) chunks.push(chainBytes);
      chunks.push(Buffer.from(part));
    });
    chunks.push(NEWLINE);
    return Buffer.concat(chunks);
  }

  private chainBytes(chain: string): Buffer {
    if (chain !== this.lastChain) {
      this.lastChain = chain;
      this.lastChainBytes = Buffer.from(JSON.stringify(chain).slice(1, -1));
    }
    return this.lastChainBytes!;
  }
}

const NEWLINE = Buffer.from('\n');

/** The samples as JSONL byte chunks, for writeFileAtomic. */
export function* sampleLines(samples: Iterable<{ chain?: unknown; text?: unknown }>): Generator<Buffer> {
  const encoder = new SampleLineEncoder();
  for (const s of samples) yield encoder.encode(s);
}
