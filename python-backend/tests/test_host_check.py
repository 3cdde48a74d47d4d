import json
import subprocess
import unittest

from .helpers import BACKEND, PY


class HostCheck(unittest.TestCase):
    def test_prints_one_json_object(self):
        res = subprocess.run([PY, str(BACKEND / "host_check.py")], capture_output=True, text=True, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = res.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1)
        info = json.loads(lines[0])
        for key in ("os", "python", "torch", "gpus", "disk", "packages", "missing"):
            self.assertIn(key, info)
        self.assertEqual(set(info["packages"]),
                         {"torch", "transformers", "numpy", "liger_kernel", "flash_attn", "lm_eval", "vllm"})
        import torch  # the test interpreter has torch: the report must say so, with its version
        self.assertTrue(info["packages"]["torch"]["present"])
        self.assertEqual(info["torch"]["version"], torch.__version__)
        self.assertEqual(info["torch"]["cuda_available"], torch.cuda.is_available())
        self.assertEqual(sorted(info["missing"]), sorted(k for k, v in info["packages"].items() if not v["present"]))
        self.assertGreater(info["disk"]["free_bytes"], 0)
        self.assertIsInstance(info["gpus"], list)


if __name__ == "__main__":
    unittest.main()
