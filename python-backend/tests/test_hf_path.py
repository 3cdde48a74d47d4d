import json
import os
import subprocess
import unittest
from pathlib import Path

import torch

from dcd_backend.export import sha256_file
from dcd_backend.model_tiny import TinyConfig, TinyForCausalLM

from .helpers import BACKEND, ENV, make_export, read_events, run_train_inproc, step_events, tmpdir, train_cmd

STUBS = Path(__file__).resolve().parent / "stubs"


class HuggingFacePathWithStub(unittest.TestCase):
    """train.py's transformers code path, against a recording stand-in for transformers (the real
    package is not installable here): the calls it makes, the tokenizer check and copy, the final
    save, and the same losses as builtin:tiny with the same weights."""

    def test_model_folder(self):
        root = tmpdir(self)
        folder = root / "model"
        torch.manual_seed(42)                      # builtin:tiny's initialisation with --seed 42
        TinyForCausalLM(TinyConfig(vocab_size=64)).save_pretrained(folder)
        (folder / "tokenizer.json").write_text('{"model": "stub"}')
        (folder / "tokenizer_config.json").write_text("{}")
        data = make_export(root / "exp", samples=16, vocab_size=64, tokenizer_sha256=sha256_file(folder / "tokenizer.json"))

        log = root / "calls.jsonl"
        env = {**ENV, "PYTHONPATH": os.pathsep.join([str(STUBS), str(BACKEND)]), "STUB_TRANSFORMERS_LOG": str(log)}
        hf = subprocess.run(train_cmd(data, root / "hf", "--max-steps", "3", model=str(folder)), env=env,
                            capture_output=True, text=True, timeout=180)
        self.assertEqual(hf.returncode, 0, hf.stderr)
        tiny = run_train_inproc(data, root / "tiny", "--max-steps", "3")
        self.assertEqual(tiny.returncode, 0, tiny.stderr)

        calls = [json.loads(l) for l in log.read_text().splitlines()]
        load = next(c for c in calls if c["call"] == "from_pretrained")
        self.assertEqual(load["path"], str(folder))
        self.assertEqual(load["dtype"], "torch.float32")          # transformers >= 4.56 spells it dtype
        self.assertNotIn("torch_dtype", load)
        expected_attn = "sdpa" if hasattr(torch.nn.functional, "scaled_dot_product_attention") else "eager"
        self.assertEqual(load["attn_implementation"], expected_attn)
        ckpt = next(c for c in calls if c["call"] == "gradient_checkpointing_enable")  # on by default
        self.assertIn("use_reentrant", ckpt["kwargs"])
        self.assertTrue(any(c["call"] == "save_pretrained" for c in calls))

        final = root / "hf" / "final"
        self.assertEqual((final / "tokenizer.json").read_text(), '{"model": "stub"}')
        self.assertTrue((final / "tokenizer_config.json").is_file())
        info = json.loads((final / "dcd_training.json").read_text())
        self.assertEqual(info["loss_impl"], "chunked")
        a, b = step_events(read_events(root / "hf")), step_events(read_events(root / "tiny"))
        self.assertEqual(sorted(a), [1, 2, 3])
        for s in a:
            self.assertAlmostEqual(a[s]["loss"], b[s]["loss"], places=6)

    def test_model_folder_tokenizer_mismatch(self):
        root = tmpdir(self)
        folder = root / "model"
        TinyForCausalLM(TinyConfig(vocab_size=64)).save_pretrained(folder)
        (folder / "tokenizer.json").write_text('{"model": "other"}')
        data = make_export(root / "exp", samples=16, vocab_size=64)
        proc = run_train_inproc(data, root / "run", "--dry-run", model=str(folder))  # checked before any model load
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("tokenizer fingerprint mismatch", read_events(root / "run")[-1]["message"])


if __name__ == "__main__":
    unittest.main()
