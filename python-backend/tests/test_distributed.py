import subprocess
import unittest

import torch

from .helpers import ENV, PY, TRAIN, final_weights, free_port, make_export, read_events, run_train, step_events, tmpdir

ARGS = ("--max-steps", "6", "--grad-accum", "4", "--save-every", "3")


def torchrun_std_workaround(root):
    """Debian's torch 1.13 on Python 3.11: torchrun's default `--redirects 0 --tee 0` parse to None
    (IntFlag iteration changed in 3.11) and it crashes. Non-zero values parse; use them there."""
    from torch.distributed.elastic.multiprocessing.api import Std
    if Std.from_str("0") is not None:
        return []
    return ["--redirects", "1", "--tee", "2", "--log_dir", str(root / "torchrun-logs")]


class TorchrunGloo(unittest.TestCase):
    """torchrun --nproc_per_node 2 on CPU (gloo, DDP): the same losses as one process with the same global batch."""

    def test_two_processes_match_one(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=32, min_len=30, max_len=60, vocab_size=96)
        one = run_train(data, root / "one", *ARGS)
        self.assertEqual(one.returncode, 0, one.stderr)

        cmd = [PY, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()), "--monitor_interval", "0.2",
               *torchrun_std_workaround(root), str(TRAIN), "--data", str(data), "--model", "builtin:tiny", "--preset", "cpu-smoke",
               "--out", str(root / "two"), "--threads", "1", "--dist", "ddp", *ARGS]
        two = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
        self.assertEqual(two.returncode, 0, two.stderr[-3000:])

        ev1, ev2 = read_events(root / "one"), read_events(root / "two")
        self.assertEqual(ev1[0]["world_size"], 1)
        self.assertEqual(ev2[0]["world_size"], 2)
        self.assertEqual(ev2[0]["dist"], "ddp")
        self.assertEqual(ev1[0]["total_steps"], ev2[0]["total_steps"])
        # only rank 0 writes events: exactly one plan and one done
        self.assertEqual([e["event"] for e in ev2].count("plan"), 1)
        self.assertEqual([e["event"] for e in ev2].count("done"), 1)
        s1, s2 = step_events(ev1), step_events(ev2)
        self.assertEqual(sorted(s1), list(range(1, 7)))
        self.assertEqual(sorted(s2), list(range(1, 7)))
        for s in s1:
            with self.subTest(step=s):
                self.assertAlmostEqual(s2[s]["loss"], s1[s]["loss"], delta=1e-5 * abs(s1[s]["loss"]))
                self.assertAlmostEqual(s2[s]["grad_norm"], s1[s]["grad_norm"], delta=1e-4 * abs(s1[s]["grad_norm"]))
                self.assertEqual(s2[s]["lr"], s1[s]["lr"])
                self.assertEqual(s2[s]["tokens"], s1[s]["tokens"])   # the same global batch
        w1, w2 = final_weights(root / "one"), final_weights(root / "two")
        for name in w1:
            # Adam divides by sqrt(v): float-order noise in tiny gradients moves weights by ~1e-6
            torch.testing.assert_close(w2[name], w1[name], rtol=1e-3, atol=2e-5)
        # both ranks wrote their RNG state into the interval checkpoint
        ck = root / "two" / "checkpoints" / "step-000003"
        self.assertTrue((ck / "rng_rank0.pt").is_file() and (ck / "rng_rank1.pt").is_file())


if __name__ == "__main__":
    unittest.main()
