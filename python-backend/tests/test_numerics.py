"""Precision and loss normalisation of train.py (docs/SPEC.md §5): --precision mixed keeps fp32
master weights and AdamW states and runs bf16 matmuls; --loss-norm token divides the summed loss
of every micro-batch by the trained tokens of the whole accumulation window."""
import json
import unittest

import torch
import torch.nn.functional as F

from dcd_backend.checkpoint import load_state
from dcd_backend.export import sha256_file
from dcd_backend.models import load_model

from .helpers import make_export, read_events, run_train_inproc, step_events, tiny_hf_model, tmpdir


def linear_dtypes(run) -> dict:
    """The dtypes of every nn.Linear's weight and output seen while RUN() runs."""
    seen = {"weight": set(), "output": set()}

    def hook(module, args, output):
        if isinstance(module, torch.nn.Linear):
            seen["weight"].add(module.weight.dtype)
            seen["output"].add(output.dtype)

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        run()
    finally:
        handle.remove()
    return seen


def checkpoint_state(run_dir, step: int) -> dict:
    return load_state(run_dir / "checkpoints" / f"step-{step:06d}" / "state.pt")


class MixedPrecision(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = tiny_hf_model()

    def train(self, root, name, precision):
        data = make_export(root / "exp", vocab_size=512, samples=8, grad_accum=2,
                           tokenizer_sha256=sha256_file(self.model / "tokenizer.json"))
        out = root / name

        def run():  # lr 1e-5 from the first step: the paper's peak rate, where pure bf16 loses updates
            proc = run_train_inproc(data, out, "--max-steps", "3", "--save-every", "1", "--lr", "1e-5",
                                    "--precision", precision, "--no-grad-ckpt", model=str(self.model))
            self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        return out, linear_dtypes(run)

    def test_mixed_keeps_fp32_master_weights_and_states_and_computes_in_bf16(self):
        root = tmpdir(self)
        out, seen = self.train(root, "mixed", "mixed")
        self.assertEqual(seen["weight"], {torch.float32}, "the weights the optimizer updates must be fp32")
        self.assertEqual(seen["output"], {torch.bfloat16}, "the matmuls must run in bf16 under autocast")
        state = checkpoint_state(out, 1)
        self.assertEqual({t.dtype for t in state["model"].values() if t.is_floating_point()}, {torch.float32})
        moments = [s[k] for s in state["optimizer"]["state"].values() for k in ("exp_avg", "exp_avg_sq")]
        self.assertTrue(moments)
        self.assertEqual({m.dtype for m in moments}, {torch.float32}, "AdamW's states must be fp32")
        plan = read_events(out)[0]
        self.assertEqual((plan["precision"], plan["dtype"]), ("mixed", "float32"))
        info = json.loads((out / "final" / "dcd_training.json").read_text())
        self.assertEqual((info["precision"], info["weights_dtype"], info["compute_dtype"], info["saved_dtype"]),
                         ("mixed", "float32", "bfloat16", "bfloat16"))

        # Pure bf16, for contrast: the same probes see bf16 weights and states, and a step at lr 1e-5
        # (step 2; step 1 is warmup at lr 0) changes far fewer weights than with the fp32 master copy.
        bf16_out, bf16_seen = self.train(root, "bf16", "bf16")
        self.assertEqual(bf16_seen["weight"], {torch.bfloat16})
        bf16_moments = [s["exp_avg"] for s in checkpoint_state(bf16_out, 1)["optimizer"]["state"].values()]
        self.assertEqual({m.dtype for m in bf16_moments}, {torch.bfloat16})
        mixed_changed, bf16_changed = changed_fraction(out), changed_fraction(bf16_out)
        self.assertGreater(mixed_changed, 0.5)
        self.assertLess(bf16_changed, 0.5 * mixed_changed)


def changed_fraction(run_dir) -> float:
    """The fraction of weights that step 2 changed (the checkpoints of steps 1 and 2)."""
    a, b = checkpoint_state(run_dir, 1)["model"], checkpoint_state(run_dir, 2)["model"]
    changed = sum(int((a[k] != b[k]).sum()) for k in a if a[k].is_floating_point())
    return changed / sum(a[k].numel() for k in a if a[k].is_floating_point())


class TokenLossNormalisation(unittest.TestCase):
    LENGTHS = [10, 64]  # a short and a long sample in one accumulation window

    def hand(self, data):
        """Token-mean and sequence-mean loss, and the gradient norm of each, of the tiny model
        train.py builds (same seed), over both samples, computed with full logits."""
        from dcd_backend.export import load_export
        export = load_export(data)
        lm = load_model("builtin:tiny", export.vocab_size, torch.device("cpu"), torch.float32, None, None, 42).lm
        out = {}
        for norm in ("token", "sequence"):
            lm.zero_grad()
            sums, counts = [], []
            for i in range(export.samples):
                ids, labels = (torch.from_numpy(a.astype("int64")) for a in export.sample(i))
                logits = lm(ids[None])[0, :-1]
                sums.append(F.cross_entropy(logits, labels[1:], ignore_index=-100, reduction="sum"))
                counts.append(int((labels[1:] != -100).sum()))
            if norm == "token":
                loss = sum(sums) / sum(counts)
            else:
                loss = sum(s / c for s, c in zip(sums, counts)) / len(sums)
            loss.backward()
            grad_norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in lm.parameters() if p.grad is not None]))
            out[norm] = (float(loss.detach()), float(grad_norm))
        return out

    def test_a_window_of_a_short_and_a_long_sample_gives_the_token_mean(self):
        root = tmpdir(self)
        data = make_export(root / "exp", lengths=self.LENGTHS, grad_accum=2, epochs=1)
        expected = self.hand(data)
        # The two rules must differ here by far more than the tolerance, or this test proves nothing.
        self.assertGreater(abs(expected["token"][1] - expected["sequence"][1]), 0.05 * expected["token"][1])
        for norm in ("token", "sequence"):
            with self.subTest(norm=norm):
                out = root / norm
                proc = run_train_inproc(data, out, "--max-steps", "1", "--grad-accum", "2", "--loss-norm", norm,
                                        "--precision", "fp32", "--loss", "plain")
                self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
                step = step_events(read_events(out))[1]
                loss, grad_norm = expected[norm]
                self.assertAlmostEqual(step["loss"], loss, delta=1e-5 * loss)
                self.assertAlmostEqual(step["grad_norm"], grad_norm, delta=1e-5 * grad_norm)
                self.assertEqual(read_events(out)[0]["loss_norm"], norm)
                info = json.loads((out / "final" / "dcd_training.json").read_text())
                self.assertEqual((info["loss_norm"], info["config"]["loss_norm"]), (norm, norm))

    def test_token_is_the_default(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=8)
        proc = run_train_inproc(data, root / "run", "--dry-run")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        plan = read_events(root / "run")[0]
        self.assertEqual((plan["loss_norm"], plan["precision"]), ("token", "fp32"))  # cpu-smoke: fp32



class PrecisionFlags(unittest.TestCase):
    def plan(self, root, name, *flags, preset="cpu-smoke"):
        data = make_export(root / "exp", samples=32)
        proc = run_train_inproc(data, root / name, "--dry-run", *flags, preset=preset)
        return proc, read_events(root / name)

    def test_defaults_and_the_older_dtype_flag(self):
        root = tmpdir(self)
        cases = [((), "paper", "mixed"), ((), "cpu-smoke", "fp32"), (("--dtype", "bf16"), "paper", "bf16"),
                 (("--dtype", "fp32"), "paper", "fp32"), (("--dtype", "auto"), "paper", "mixed"),
                 (("--precision", "bf16", "--dtype", "bf16"), "paper", "bf16")]
        for i, (flags, preset, want) in enumerate(cases):
            with self.subTest(flags=flags, preset=preset):
                proc, events = self.plan(root, f"run{i}", *flags, preset=preset)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertEqual(events[0]["precision"], want)

    def test_contradicting_flags_are_refused(self):
        proc, events = self.plan(tmpdir(self), "run", "--precision", "mixed", "--dtype", "fp32")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--dtype fp32 contradicts --precision mixed", events[-1]["message"])


if __name__ == "__main__":
    unittest.main()
