import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { overlaySpans } from '../../src/traces/overlaySpans';
import { IGNORE_INDEX } from '../../src/core/trace/mask';

describe('overlaySpans', () => {
  const text = 'ab\ncd ef\n\ngh';
  // Tokens: "ab" "\n" "cd" " ef" "\n\n" "gh" (the two-newline token spans a blank line).
  const offsets = Int32Array.from([0, 2, 2, 3, 3, 5, 5, 8, 8, 10, 10, 12]);

  it('splits kept tokens by label and gives each its line/character positions', () => {
    const labels = Int32Array.from([IGNORE_INDEX, IGNORE_INDEX, 7, 8, 9, 10]);
    const s = overlaySpans(text, offsets, labels, false);
    assert.deepEqual(s.masked, [[0, 2], [2, 3]]);
    assert.deepEqual(s.trained, [[3, 5], [5, 8], [8, 10], [10, 12]]);
    assert.deepEqual([...s.positions], [
      0, 0, 0, 2, // ab
      0, 2, 1, 0, // \n ends at the start of line 1
      1, 0, 1, 2, // cd
      1, 2, 1, 5, // " ef"
      1, 5, 3, 0, // \n\n
      3, 0, 3, 2, // gh
    ]);
    assert.equal(s.cutAt, null);
  });

  it('covers only the kept tokens and reports where max_length cuts', () => {
    const labels = Int32Array.from([IGNORE_INDEX, 5, 6]); // max_length 3: three kept tokens
    const s = overlaySpans(text, offsets, labels, true);
    assert.equal(s.trained.length + s.masked.length, 3);
    assert.equal(s.positions.length, 12);
    assert.equal(s.cutAt, 5, 'the end of the last kept token');
    assert.equal(overlaySpans(text, offsets, Int32Array.from([1, 2, 3, 4, 5, 6]), true).cutAt, null, 'nothing is cut when every token is kept');
  });

  it('gives tokens that share one character the same range', () => {
    const emoji = 'x😀';
    const off = Int32Array.from([0, 1, 1, 3, 1, 3]); // the emoji's 4 UTF-8 bytes in two tokens
    const s = overlaySpans(emoji, off, Int32Array.from([1, 2, 3]), false);
    assert.deepEqual(s.trained, [[0, 1], [1, 3], [1, 3]]);
    assert.deepEqual([...s.positions.subarray(4)], [0, 1, 0, 3, 0, 1, 0, 3]);
  });
});
