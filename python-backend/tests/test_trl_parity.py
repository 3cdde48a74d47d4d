"""train.py against TRL's SFTTrainer (the stack s1 trains with) on CPU in fp32: same tiny random
Qwen2 model, same export, same order, same hyper-parameters; the per-step losses, gradient norms
and final weights must agree.

Tolerance. Both run the same fp32 model code (transformers' Qwen2); they differ only in how the
cross-entropy is computed (our chunked linear cross-entropy against TRL's fused log-probs) and
in summation order, i.e. by fp32 rounding: ~1e-7 relative per loss, ~1e-6 after a few AdamW
steps. Losses here are ~12-20, so 1e-4 absolute is ~1e-5 relative: two orders above rounding and
far below any real difference (per-sequence instead of token normalisation moves the first loss by
~3e-2 on this export; a lost or extra step moves the weights by ~lr = 1e-3). Weights: max-abs
difference under 2% of the largest update the run made and under 2e-5 absolute.
"""
import json
import unittest

import torch

from dcd_backend.export import load_export, sha256_file
from dcd_backend.trl_reference import run_sft

from .helpers import final_weights, make_export, read_events, run_train_inproc, step_events, tiny_hf_model, tmpdir

GRAD_ACCUM, SAMPLES, LR = 4, 24, 1e-3   # 6 optimizer steps of 4 micro-batches, 1 epoch


class TrlParity(unittest.TestCase):
    def test_losses_and_weights_match_trl_sft_trainer(self):
        model_dir = tiny_hf_model()
        root = tmpdir(self)
        data = make_export(root / "exp", samples=SAMPLES, min_len=16, max_len=96, vocab_size=512,
                           tokenizer_sha256=sha256_file(model_dir / "tokenizer.json"), grad_accum=GRAD_ACCUM, epochs=1)
        proc = run_train_inproc(data, root / "ours", "--max-steps", str(SAMPLES // GRAD_ACCUM), "--grad-accum", str(GRAD_ACCUM), "--lr", str(LR),
                                "--precision", "fp32", "--loss-norm", "token", "--no-grad-ckpt", "--save-every", "0",
                                model=str(model_dir))
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        events = read_events(root / "ours")
        plan = events[0]
        self.assertEqual((plan["total_steps"], plan["warmup_steps"]), (SAMPLES // GRAD_ACCUM, 1))
        ours = step_events(events)
        order = json.loads((root / "ours" / "data_order.json").read_text())["epochs"][0]

        trl = run_sft(model_dir, load_export(data), order, root / "trl", GRAD_ACCUM, LR, warmup_steps=1)
        trl_losses, trl_norms, trl_sd = trl["losses"], trl["grad_norms"], trl["state_dict"]
        self.assertEqual(len(trl_losses), len(ours))
        self.assertGreaterEqual(len(ours), 5)
        for s, (loss, norm) in enumerate(zip(trl_losses, trl_norms), start=1):
            self.assertAlmostEqual(ours[s]["loss"], loss, delta=1e-4, msg=f"step {s}")
            self.assertAlmostEqual(ours[s]["grad_norm"], norm, delta=1e-4 * max(1.0, norm), msg=f"step {s}")

        from safetensors.torch import load_file
        start = load_file(str(model_dir / "model.safetensors"))
        mine = final_weights(root / "ours")
        self.assertEqual(set(mine), set(trl_sd))
        update = max(float((trl_sd[k] - start[k]).abs().max()) for k in start)
        diff = max(float((mine[k] - trl_sd[k]).abs().max()) for k in mine)
        loss_diff = max(abs(ours[s]["loss"] - x) for s, x in enumerate(trl_losses, start=1))
        print(f"TRL parity: losses {[round(x, 6) for x in trl_losses]}, max loss difference {loss_diff:.3g}, "
              f"max |update| {update:.3g}, max |ours - TRL| {diff:.3g}")
        self.assertGreater(update, 1e-4, "training must have moved the weights")
        self.assertLess(diff, min(0.02 * update, 2e-5))


if __name__ == "__main__":
    unittest.main()
