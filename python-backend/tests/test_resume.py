import json
import signal
import subprocess
import unittest

import torch

from .helpers import (ENV, final_weights, make_export, read_events, run_train, run_train_inproc, step_events, tmpdir,
                      train_cmd, wait_for)

ARGS = ("--max-steps", "24", "--grad-accum", "4", "--save-every", "10")


class KillAndResume(unittest.TestCase):
    """A real SIGTERM (or SIGINT) to the trainer at step k, then --resume: the same trajectory as one
    uninterrupted run."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        from pathlib import Path
        cls._tmp = tempfile.TemporaryDirectory(prefix="dcd-test-")
        cls.root = Path(cls._tmp.name)
        cls.data = make_export(cls.root / "exp", samples=64, min_len=40, max_len=80, vocab_size=128)
        cls.ref = run_train(cls.data, cls.root / "ref", *ARGS)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def kill_and_resume(self, sig):
        root, data = tmpdir(self), self.data
        self.assertEqual(self.ref.returncode, 0, self.ref.stderr)
        ref_steps = step_events(read_events(self.root / "ref"))
        self.assertEqual(sorted(ref_steps), list(range(1, 25)))

        run = root / "run"
        proc = subprocess.Popen(train_cmd(data, run, *ARGS), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: 3 in step_events(read_events(run)) or proc.poll() is not None, timeout=120)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.assertEqual(proc.returncode, 128 + sig, err)
        first = read_events(run)
        last = first[-1]
        self.assertEqual((last["event"], last["reason"]), ("checkpoint", "signal"))
        k = last["step"]
        self.assertGreaterEqual(k, 3)
        self.assertLess(k, 24, "the run finished before the signal: make it longer")
        self.assertEqual(max(step_events(first)), k)  # no step after the checkpoint
        meta = json.loads((run / "checkpoints" / f"step-{k:06d}" / "meta.json").read_text())
        self.assertEqual(meta["step"], k)
        self.assertEqual(meta["data"]["index_in_epoch"], (k % 16) * 4)  # 64 samples / 4 = 16 steps per epoch

        res = run_train(data, run, *ARGS, "--resume")
        self.assertEqual(res.returncode, 0, res.stderr)
        events = read_events(run)
        resumed = events[len(first):]
        self.assertEqual(resumed[0]["event"], "plan")
        self.assertEqual(resumed[0]["resume_step"], k)
        self.assertEqual(min(step_events(resumed)), k + 1)
        steps = step_events(events)
        self.assertEqual(sorted(steps), list(range(1, 25)))
        for s in range(1, 25):
            with self.subTest(step=s):
                self.assertEqual(steps[s]["loss"], ref_steps[s]["loss"])
                self.assertEqual(steps[s]["lr"], ref_steps[s]["lr"])
                self.assertEqual(steps[s]["grad_norm"], ref_steps[s]["grad_norm"])
        a, b = final_weights(self.root / "ref"), final_weights(run)
        self.assertEqual(set(a), set(b))
        for name in a:
            self.assertTrue(torch.equal(a[name], b[name]), name)
        self.assertEqual(events[-1]["event"], "done")
        self.assertEqual(events[-1]["final_loss"], ref_steps[24]["loss"])

    def test_sigterm_then_resume(self):
        self.kill_and_resume(signal.SIGTERM)

    def test_sigint_then_resume(self):
        self.kill_and_resume(signal.SIGINT)

    def test_resume_refuses_other_config(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=16, vocab_size=32)
        self.assertEqual(run_train_inproc(data, root / "run", "--max-steps", "4", "--save-every", "2").returncode, 0)
        proc = run_train_inproc(data, root / "run", "--max-steps", "4", "--lr", "0.01", "--resume")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("different configuration", read_events(root / "run")[-1]["message"])

    def test_resume_of_a_finished_run_does_nothing(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=16, vocab_size=32)
        self.assertEqual(run_train_inproc(data, root / "run", "--max-steps", "4", "--save-every", "2").returncode, 0)
        first = read_events(root / "run")
        mtime = (root / "run" / "final" / "config.json").stat().st_mtime_ns
        proc = run_train_inproc(data, root / "run", "--max-steps", "4", "--save-every", "2", "--resume")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        again = read_events(root / "run")[len(first):]
        self.assertEqual([e["event"] for e in again], ["plan", "done"])   # no step redone
        self.assertTrue(again[1]["already_done"])
        self.assertEqual(again[1]["final_loss"], first[-1]["final_loss"])
        self.assertEqual((root / "run" / "final" / "config.json").stat().st_mtime_ns, mtime)


if __name__ == "__main__":
    unittest.main()
