import json
import subprocess
import unittest
from pathlib import Path

import torch

from dcd_backend.model_tiny import TinyConfig, TinyForCausalLM, parse_tiny_spec

from .helpers import BACKEND, ENV, HOST_PY, make_export, read_events, run_train_inproc, tmpdir, train_cmd

HF_KEYS_LAYER = {
    "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight", "self_attn.k_proj.bias",
    "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.o_proj.weight",
    "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
    "input_layernorm.weight", "post_attention_layernorm.weight",
}


class TinyModel(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.cfg = TinyConfig(vocab_size=50, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2)
        self.model = TinyForCausalLM(self.cfg).eval()

    def test_causal(self):
        ids = torch.randint(0, 50, (1, 12))
        ids2 = ids.clone()
        ids2[0, 8] = (ids2[0, 8] + 1) % 50
        with torch.no_grad():
            a, b = self.model(ids), self.model(ids2)
        torch.testing.assert_close(a[0, :8], b[0, :8])          # the past does not see the future
        self.assertFalse(torch.allclose(a[0, 8:], b[0, 8:]))

    def test_position_sensitive(self):
        # RoPE: the same two tokens in the other order give different predictions for the last one
        with torch.no_grad():
            a = self.model(torch.tensor([[3, 7, 9]]))[0, -1]
            b = self.model(torch.tensor([[7, 3, 9]]))[0, -1]
        self.assertFalse(torch.allclose(a, b))

    def test_gqa_shapes_and_tied_head(self):
        attn = self.model.model.layers[0].self_attn
        self.assertEqual(attn.q_proj.out_features, 4 * 8)
        self.assertEqual(attn.k_proj.out_features, 2 * 8)
        self.assertIs(self.model.lm_head.weight, self.model.model.embed_tokens.weight)

    def test_hugging_face_layout_roundtrip(self):
        out = tmpdir(self) / "final"
        self.model.save_pretrained(out)
        cfg = json.loads((out / "config.json").read_text())
        self.assertEqual(cfg["model_type"], "qwen2")
        self.assertEqual(cfg["architectures"], ["Qwen2ForCausalLM"])
        for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                  "num_key_value_heads", "rope_theta", "rms_norm_eps", "vocab_size", "tie_word_embeddings"):
            self.assertEqual(cfg[k], getattr(self.cfg, k), k)
        weights = [p.name for p in out.iterdir() if p.name in ("model.safetensors", "pytorch_model.bin")]
        self.assertEqual(len(weights), 1)
        keys = set(self.model.hf_state_dict())
        expected = {"model.embed_tokens.weight", "model.norm.weight"} | {
            f"model.layers.{i}.{k}" for i in range(2) for k in HF_KEYS_LAYER}
        self.assertEqual(keys, expected)  # tied lm_head is not stored, as transformers does
        again = TinyForCausalLM.from_pretrained(out).eval()
        ids = torch.randint(0, 50, (1, 10))
        with torch.no_grad():
            torch.testing.assert_close(again(ids), self.model(ids))

    def test_spec_parameters(self):
        cfg = parse_tiny_spec("builtin:tiny?hidden=48&layers=3&heads=6&kv=3&ffn=96&tie=0", 77)
        self.assertEqual((cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads,
                          cfg.num_key_value_heads, cfg.intermediate_size, cfg.tie_word_embeddings, cfg.vocab_size),
                         (48, 3, 6, 3, 96, False, 77))
        with self.assertRaises(ValueError):
            parse_tiny_spec("builtin:huge", 10)
        with self.assertRaises(ValueError):
            parse_tiny_spec("builtin:tiny?depth=3", 10)

    def test_gradient_checkpointing_same_gradients(self):
        ids = torch.randint(0, 50, (1, 9))
        self.model.train()
        self.model(ids).sum().backward()
        ref = [p.grad.clone() for p in self.model.parameters()]
        self.model.zero_grad()
        self.model.gradient_checkpointing_enable()
        self.model(ids).sum().backward()
        for a, b in zip(ref, [p.grad for p in self.model.parameters()]):
            torch.testing.assert_close(a, b)


class MissingTransformers(unittest.TestCase):
    """A Hugging Face model on a host without transformers: an error naming the package and how to
    install it. The host is real: Debian's /usr/bin/python3 with python3-torch and numpy only."""

    def setUp(self):
        probe = subprocess.run([HOST_PY, "-c", "import torch, numpy, importlib.util as u; "
                                "print(u.find_spec('transformers') is None)"], capture_output=True, text=True)
        self.assertEqual(probe.stdout.strip(), "True",
                         f"{HOST_PY} must have torch and numpy but no transformers for this test: {probe.stderr}")

    def test_load_model_names_the_package(self):
        code = ("import torch; from dcd_backend.models import MissingPackage, load_model\n"
                "try:\n    load_model('Qwen/Qwen2.5-1.5B-Instruct', 100, torch.device('cpu'), torch.float32, None, None, 0)\n"
                "except MissingPackage as e:\n    print(e)\n")
        proc = subprocess.run([HOST_PY, "-c", code], env={**ENV, "PYTHONPATH": str(BACKEND)}, capture_output=True,
                              text=True, timeout=120)
        self.assertIn("'transformers'", proc.stdout, proc.stderr)
        self.assertIn("pip install transformers", proc.stdout)

    def test_trainer_reports_it_as_an_error_event(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=8, vocab_size=32)
        cmd = [HOST_PY, *train_cmd(data, root / "run", model="Qwen/Qwen2.5-1.5B-Instruct")[1:]]
        proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=180)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        err = [e for e in read_events(root / "run") if e["event"] == "error"]
        self.assertEqual(len(err), 1)
        self.assertIn("pip install transformers", err[0]["message"])
        self.assertIn("MissingPackage", Path(err[0]["traceback_file"]).read_text())


if __name__ == "__main__":
    unittest.main()
