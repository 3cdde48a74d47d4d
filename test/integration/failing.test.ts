/**
 * A deliberately failing assertion, switched on only by DCD_TEST_DELIBERATE_FAILURE=1.
 * `npm run test:prove-failure` uses it to show that a failure inside VS Code
 * makes the whole `npm test` exit non-zero.
 */
import * as assert from 'node:assert/strict';

if (process.env.DCD_TEST_DELIBERATE_FAILURE === '1') {
  describe('deliberate failure', () => {
    it('fails on purpose', () => {
      assert.equal(1 + 1, 3, 'this assertion is meant to fail');
    });
  });
}
