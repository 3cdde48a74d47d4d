"""Resuming never runs code from the run folder: checkpoints load with weights_only, and the
``latest`` pointer can only name a checkpoint folder inside the run's checkpoints/."""
import os
import random
import unittest
from pathlib import Path

import numpy as np
import torch

from dcd_backend.checkpoint import (UnsafeCheckpointError, capture_rng, checkpoint_dir, latest_checkpoint,
                                    load_checkpoint, load_state, restore_rng, save_state, torch_load)
from dcd_backend.distributed import DistInfo

from .helpers import tmpdir


class Payload:
    """What an attacker would plant: unpickling it calls Path.touch on the marker."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _checkpoint(root: Path, name: str) -> Path:
    d = root / name
    d.mkdir(parents=True)
    save_state({"step": 1, "config": {}, "rng": {}}, d / "state.pt")
    return d


class LatestPointer(unittest.TestCase):
    def test_a_pointer_out_of_the_run_folder_is_refused(self):
        base = tmpdir(self)
        run = base / "a" / "run"
        root = checkpoint_dir(run)
        _checkpoint(root, "step-000001")
        outside = _checkpoint(run.parent, "x")   # checkpoints/../../x: a loadable folder beside the run
        for target in ("../../x", str(outside), "step-000001/../../../x"):
            with self.subTest(target=target):
                (root / "latest").write_text(target + "\n")
                with self.assertRaises(UnsafeCheckpointError):
                    latest_checkpoint(run)

    def test_a_symlinked_checkpoint_folder_is_refused(self):
        base = tmpdir(self)
        run = base / "run"
        root = checkpoint_dir(run)
        root.mkdir(parents=True)
        outside = _checkpoint(base, "elsewhere")
        os.symlink(outside, root / "step-000009")
        (root / "latest").write_text("step-000009\n")
        with self.assertRaises(UnsafeCheckpointError):
            latest_checkpoint(run)
        (root / "latest").unlink()
        self.assertIsNone(latest_checkpoint(run), "the folder scan skips it too")

    def test_a_pointer_inside_is_followed(self):
        run = tmpdir(self) / "run"
        root = checkpoint_dir(run)
        _checkpoint(root, "step-000001")
        two = _checkpoint(root, "step-000002")
        (root / "latest").write_text("step-000001\n")
        self.assertEqual(latest_checkpoint(run), root / "step-000001")
        (root / "latest").unlink()
        self.assertEqual(latest_checkpoint(run), two)


class SafeLoading(unittest.TestCase):
    def test_a_pickle_that_runs_code_is_refused(self):
        d = tmpdir(self)
        marker = d / "pwned"
        ckpt = d / "step-000001"
        ckpt.mkdir()
        save_state({"step": 1, "rng": {}}, ckpt / "state.pt")
        torch.save({"0": torch.zeros(1), "evil": Payload(marker)}, ckpt / "state.pt")   # planted over it
        with self.assertRaises(UnsafeCheckpointError):
            load_checkpoint(ckpt, DistInfo())
        with self.assertRaises(UnsafeCheckpointError):
            torch_load(ckpt / "state.pt")
        self.assertFalse(marker.exists(), "the payload ran")

    def test_a_full_pickle_checkpoint_of_earlier_versions_is_refused(self):
        ckpt = tmpdir(self) / "step-000001"
        ckpt.mkdir()
        torch.save({"step": 1, "rng": {"numpy": np.random.get_state()}}, ckpt / "state.pt")
        with self.assertRaisesRegex(UnsafeCheckpointError, "older"):
            load_checkpoint(ckpt, DistInfo())

    def test_rng_and_optimizer_state_survive_a_safe_load(self):
        d = tmpdir(self)
        model = torch.nn.Linear(3, 2)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95))
        model(torch.ones(1, 3)).sum().backward()
        opt.step()
        random.seed(1); np.random.seed(2); torch.manual_seed(3)
        save_state({"rng": capture_rng(), "optimizer": opt.state_dict(), "lr": float("nan")}, d / "s.pt")
        expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
        state = load_state(d / "s.pt")
        restore_rng(state["rng"])
        self.assertEqual((random.random(), float(np.random.rand()), float(torch.rand(1))), expected)
        opt2 = torch.optim.AdamW(model.parameters(), lr=1e-3)
        opt2.load_state_dict(state["optimizer"])
        self.assertEqual(opt2.state_dict()["param_groups"][0]["betas"], (0.9, 0.95))
        self.assertEqual(set(opt2.state_dict()["state"]), {0, 1})
        torch.testing.assert_close(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


if __name__ == "__main__":
    unittest.main()
