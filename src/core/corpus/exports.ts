/**
 * Exports of a corpus to the formats other trainers read: TRL "messages"
 * JSONL (system/user/assistant turns; the assistant turn holds the whole
 * think…answer trace) and plain `{"text"}` JSONL (the rendered trace).
 */
import { parseTrace } from '../trace/template';
import { getPreset } from '../trace/template';
import type { DcdSample } from '../trace/model';

export type ExportFormat = 'messages' | 'text';

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

/** The TRL conversational form of one sample. The assistant turn is the trace after `<|im_start|>assistant\n`, without the final `<|im_end|>`. */
export function toMessages(sample: DcdSample, presetName = 'paper'): { messages: ChatMessage[] } {
  const { rendered } = parseTrace(sample.text, presetName);
  const text = rendered.text;
  const assistantStart = text.indexOf('<|im_start|>assistant\n') + '<|im_start|>assistant\n'.length;
  return {
    messages: [
      { role: 'system', content: getPreset(presetName).system },
      { role: 'user', content: sample.question },
      { role: 'assistant', content: text.slice(assistantStart, text.length - '<|im_end|>'.length) },
    ],
  };
}

export function exportLine(sample: DcdSample, format: ExportFormat, presetName = 'paper'): unknown {
  return format === 'messages' ? { id: sample.id, ...toMessages(sample, presetName) } : { text: sample.text };
}
