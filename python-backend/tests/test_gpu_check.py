"""tools/gpu_check.py: the one-call GPU check, run on the CPU at the tiny shape (the same code path as
on a GPU: Qwen2ForCausalLM from the bundled config, gradient checkpointing, chunked CE, AdamW on fp32
weights under bf16 autocast)."""
import json
import math
import subprocess
import sys
import unittest

from .helpers import BACKEND, ENV, PY

TOOL = BACKEND / "tools" / "gpu_check.py"
KEYS = {"ok", "device", "device_type", "shape", "params", "layers", "hidden", "heads", "kv_heads", "intermediate",
        "vocab", "steps", "warmup_steps", "stopped_early", "micro_batch", "grad_ckpt", "precision", "loss_impl",
        "max_len", "mean_len", "longest", "tokens", "seconds", "tokens_per_s", "tflops", "flops_formula",
        "peak_bf16_tflops", "mfu", "peak_memory_bytes", "final_loss"}


def load_tool():
    sys.path.insert(0, str(TOOL.parent))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(TOOL.parent))
    return gpu_check


class GpuCheckOnCpu(unittest.TestCase):
    def test_tiny_run_prints_one_json_line(self):
        res = subprocess.run([PY, str(TOOL), "--device", "cpu", "--shape", "tiny", "--steps", "3", "--max-len", "256",
                              "--threads", "1"], env=ENV, capture_output=True, text=True, timeout=300)
        self.assertEqual(res.returncode, 0, res.stderr[-3000:])
        lines = [l for l in res.stdout.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, res.stdout)
        out = json.loads(lines[0])
        self.assertLessEqual(KEYS, set(out))
        self.assertTrue(out["ok"])
        self.assertEqual((out["device_type"], out["shape"], out["steps"], out["micro_batch"]), ("cpu", "tiny", 3, 1))
        self.assertTrue(out["grad_ckpt"])
        self.assertEqual(out["loss_impl"], "chunked")
        self.assertEqual(out["longest"], 256)
        self.assertTrue(math.isfinite(out["final_loss"]) and out["final_loss"] > 0)
        self.assertGreater(out["tokens_per_s"], 0)
        self.assertGreater(out["tflops"], 0)
        self.assertIsNone(out["mfu"])
        self.assertIsNone(out["peak_bf16_tflops"])
        self.assertIsNone(out["peak_memory_bytes"])
        # The tiny shape keeps the real architecture's GQA ratio and the tied embedding.
        self.assertEqual((out["heads"], out["kv_heads"]), (4, 2))


class GpuCheckPieces(unittest.TestCase):
    def setUp(self):
        self.g = load_tool()

    def test_bundled_config_is_qwen25_15b(self):
        cfg = json.loads(self.g.CONFIG_FILE.read_text())
        want = {"hidden_size": 1536, "num_hidden_layers": 28, "num_attention_heads": 12, "num_key_value_heads": 2,
                "intermediate_size": 8960, "vocab_size": 151936, "rope_theta": 1e6, "tie_word_embeddings": True,
                "max_position_embeddings": 32768, "model_type": "qwen2"}
        self.assertEqual({k: cfg[k] for k in want}, want)

    def test_length_distribution(self):
        lengths = self.g.sequence_lengths(24, 11_000, 32_768, seed=0)
        self.assertEqual(len(lengths), 24)
        self.assertEqual(max(lengths), 32_768)
        self.assertAlmostEqual(sum(lengths) / 24, 11_000, delta=110)
        self.assertEqual(lengths, self.g.sequence_lengths(24, 11_000, 32_768, seed=0))  # seeded
        self.assertNotEqual(lengths, self.g.sequence_lengths(24, 11_000, 32_768, seed=1))

    def test_peak_table(self):
        p = self.g.peak_tflops
        self.assertEqual(p("NVIDIA H100 80GB HBM3"), 989.0)
        self.assertEqual(p("NVIDIA H100 PCIe"), 756.0)
        self.assertEqual(p("NVIDIA H200"), 989.0)
        self.assertEqual(p("NVIDIA A100-SXM4-80GB"), 312.0)
        self.assertEqual(p("NVIDIA L40S"), 362.0)
        self.assertEqual(p("NVIDIA GeForce RTX 4090"), 165.0)
        self.assertIsNone(p("Tesla T4"))


if __name__ == "__main__":
    unittest.main()
