/**
 * The prompts the local model is given: the student's draft prompt (a
 * setting) and the fixed yes/no prompt of the verification assistant
 * (paper §3.1), with the strict parser of its reply.
 */
import type { ChatMessage, PromptInput } from './types';

/**
 * The student prompt setting. `user` (and `system`, if set) may contain
 * `{question}`. With `raw: true`, `user` is the whole prompt text, used without
 * the chat template. Without `system`, the model's chat template supplies its
 * default system message (Qwen2.5: "You are Qwen, created by Alibaba Cloud…").
 */
export interface StudentPrompt {
  system?: string;
  user: string;
  raw?: boolean;
}

export const DEFAULT_STUDENT_PROMPT: Readonly<StudentPrompt> = {
  user: '{question}\n\nSketch your reasoning briefly, then give your final answer in \\boxed{}.',
};

function fill(template: string, question: string): string {
  return template.split('{question}').join(question);
}

export function studentPrompt(question: string, prompt: StudentPrompt = DEFAULT_STUDENT_PROMPT): PromptInput {
  if (prompt.raw) return { text: fill(prompt.user, question) };
  const messages: ChatMessage[] = [];
  if (prompt.system !== undefined) messages.push({ role: 'system', content: fill(prompt.system, question) });
  messages.push({ role: 'user', content: fill(prompt.user, question) });
  return { messages };
}

/** Validates a user-supplied prompt setting; returns a message or null. */
export function studentPromptProblem(prompt: StudentPrompt): string | null {
  if (typeof prompt.user !== 'string' || prompt.user.trim() === '') return 'the student prompt needs a non-empty "user" text';
  if (!prompt.user.includes('{question}') && !(prompt.system ?? '').includes('{question}')) {
    return 'the student prompt must contain {question}';
  }
  return null;
}

/** The fixed prompt of the verification assistant: its sole input is the pair (draft answer, gold answer). */
export const VERIFY_SYSTEM = 'You compare two final answers to the same problem. Reply with exactly one word: yes or no.';
export const VERIFY_USER =
  'Draft answer: {pred}\nGold answer: {gold}\n\nAre these two answers equivalent (the same value, expression or choice)? Reply with exactly one word: yes or no.';

export function verifyPrompt(predAnswer: string, goldAnswer: string): PromptInput {
  return {
    messages: [
      { role: 'system', content: VERIFY_SYSTEM },
      { role: 'user', content: VERIFY_USER.split('{pred}').join(predAnswer).split('{gold}').join(goldAnswer) },
    ],
  };
}

/**
 * Strict parse of the assistant's reply: exactly "yes" or "no" after trimming
 * whitespace (letter case ignored). Anything else, "Yes." included, is
 * undecided (null).
 */
export function parseYesNo(reply: string): boolean | null {
  const t = reply.trim().toLowerCase();
  if (t === 'yes') return true;
  if (t === 'no') return false;
  return null;
}
