import math
import unittest

from dcd_backend.schedule import CPU_SMOKE, lr_at, make_plan, manifest_plan, step_counts, warmup_steps_for

from .helpers import make_export, read_events, run_train_inproc as run_train, tmpdir


def hf_cosine(step, peak, warmup, total):
    """Independent transcription of transformers.get_cosine_schedule_with_warmup."""
    if step < warmup:
        return peak * float(step) / float(max(1, warmup))
    progress = float(step - warmup) / float(max(1, total - warmup))
    return peak * max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))


class PaperPlanDryRun(unittest.TestCase):
    """The 1,675-sample paper plan, read from the events of a real --dry-run."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._tmp = tempfile.TemporaryDirectory(prefix="dcd-test-")
        root = cls._tmp.name
        # the paper plan as `dcd pack` writes it; the trainer follows it
        data = make_export(f"{root}/exp", samples=1675, min_len=3, max_len=6, vocab_size=64, plan_preset="paper")
        cls.proc = run_train(data, f"{root}/run", "--dry-run", preset="paper")
        from pathlib import Path
        cls.events = read_events(Path(root) / "run")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_exit_and_event_order(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        kinds = [e["event"] for e in self.events]
        self.assertEqual(kinds[0], "plan")
        self.assertEqual(kinds[-1], "done")
        self.assertEqual(set(kinds[1:-1]), {"lr"})
        self.assertIsNone(self.events[-1]["model_dir"])

    def test_520_steps_26_warmup(self):
        plan = self.events[0]
        self.assertEqual(plan["plan_source"], "export")
        self.assertEqual(plan["total_steps"], 520)
        self.assertEqual(plan["warmup_steps"], 26)
        self.assertEqual(plan["samples"], 1675)
        self.assertEqual(plan["epochs"], 5)
        self.assertEqual(plan["grad_accum"], 16)
        self.assertEqual(plan["lr"], 1e-5)
        lrs = [e for e in self.events if e["event"] == "lr"]
        self.assertEqual([e["step"] for e in lrs], list(range(1, 521)))

    def test_learning_rates_at_steps_0_25_26_27_519(self):
        lr = {e["step"] - 1: e["lr"] for e in self.events if e["event"] == "lr"}  # 0-based optimizer step
        self.assertEqual(lr[0], 0.0)                      # warmup starts from 0
        self.assertAlmostEqual(lr[25], 1e-5 * 25 / 26, delta=1e-18)
        self.assertEqual(lr[26], 1e-5)                    # peak right after 26 warmup steps
        self.assertAlmostEqual(lr[27], 1e-5 * 0.5 * (1 + math.cos(math.pi / 494)), delta=1e-18)
        self.assertAlmostEqual(lr[519], 1e-5 * 0.5 * (1 + math.cos(math.pi * 493 / 494)), delta=1e-20)
        self.assertGreater(lr[519], 0.0)
        self.assertLess(lr[519], 1e-9)
        for s in (0, 25, 26, 27, 519):
            self.assertAlmostEqual(lr[s], hf_cosine(s, 1e-5, 26, 520), delta=1e-18)
        # monotone up during warmup, monotone down after
        self.assertTrue(all(lr[i] < lr[i + 1] for i in range(26)))
        self.assertTrue(all(lr[i] > lr[i + 1] for i in range(26, 519)))


class ExportPlanIsFollowed(unittest.TestCase):
    """docs/FORMATS.md §1: when the manifest's plan has the --preset asked for, its numbers are used
    as given (e.g. the extension's smoke plan: grad-accum 1, at most 8 steps, lr 1e-5)."""

    def test_smoke_plan_from_the_export(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=40, vocab_size=64, plan_preset="smoke", grad_accum=1, epochs=1,
                           max_steps=8, lr=1e-5)
        proc = run_train(data, root / "run", "--dry-run", preset="smoke")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        plan = read_events(root / "run")[0]
        self.assertEqual(plan["plan_source"], "export")
        self.assertEqual((plan["total_steps"], plan["warmup_steps"], plan["grad_accum"], plan["lr"]), (8, 1, 1, 1e-5))
        self.assertIsNone(plan["max_length"])            # the export is already cut
        # the CPU recipe ignores the export's plan
        proc = run_train(data, root / "run2", "--dry-run", preset="cpu-smoke")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        plan = read_events(root / "run2")[0]
        self.assertEqual((plan["plan_source"], plan["total_steps"], plan["grad_accum"]), ("preset", 20, 2))
        # a flag still wins, and the warmup follows the new step count
        proc = run_train(data, root / "run3", "--dry-run", "--max-steps", "40", preset="smoke")
        plan = read_events(root / "run3")[0]
        self.assertEqual((plan["total_steps"], plan["warmup_steps"], plan["lr"]), (40, 2, 1e-5))

    def test_inconsistent_export_plan_is_refused(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=40, vocab_size=64, grad_accum=16, epochs=5)
        import json
        m = json.loads((data / "manifest.json").read_text())
        m["plan"]["optimizer_steps"] = 11    # 5 x floor(40 / 16) = 10 at most
        (data / "manifest.json").write_text(json.dumps(m))
        proc = run_train(data, root / "run", "--dry-run", preset="paper")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("plan does not fit", read_events(root / "run")[-1]["message"])


class PresetMustMatchTheExport(unittest.TestCase):
    """--preset paper|smoke means "the export's plan": another preset, or no plan at all, is refused
    unless recipe flags say what to run."""

    def test_mismatch_is_refused(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=40, vocab_size=64)   # a paper plan
        proc = run_train(data, root / "run", "--dry-run", preset="smoke")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        message = read_events(root / "run")[-1]["message"]
        self.assertIn("--preset smoke does not match the export's plan preset 'paper'", message)
        self.assertIn("--plan-preset smoke", message)

    def test_mismatch_with_explicit_steps_runs_the_exports_plan(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=40, vocab_size=64)
        proc = run_train(data, root / "run", "--dry-run", "--max-steps", "3", preset="smoke")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        plan = read_events(root / "run")[0]
        self.assertEqual((plan["preset"], plan["plan_source"], plan["total_steps"], plan["grad_accum"], plan["lr"]),
                         ("paper", "export", 3, 16, 1e-5))

    def test_export_without_plan_is_refused(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=40, vocab_size=64, plan_preset=None)
        proc = run_train(data, root / "run", "--dry-run", "--max-steps", "3", preset="paper")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("no training plan", read_events(root / "run")[-1]["message"])
        self.assertEqual(run_train(data, root / "run2", "--dry-run", preset="cpu-smoke").returncode, 0)


class TrainerNeverCutsFurther(unittest.TestCase):
    def test_max_length_shorter_than_the_export_is_refused(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=8, vocab_size=32, lengths=[40, 20, 30, 10, 12, 14, 16, 18])
        proc = run_train(data, root / "run", "--dry-run", "--max-length", "39")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("shorter than the export's max_length 40", read_events(root / "run")[-1]["message"])
        for ok in ("40", "4096", "0"):
            self.assertEqual(run_train(data, root / f"run-{ok}", "--dry-run", "--max-length", ok).returncode, 0, ok)


class PlanArithmetic(unittest.TestCase):
    def test_floor_per_epoch_drops_the_remainder(self):
        p = make_plan(1675, 5, 16, 1e-5, 0.05)
        self.assertEqual((p.steps_per_epoch, p.total_steps, p.warmup_steps), (104, 520, 26))
        p = make_plan(1000, 5, 16, 1e-5, 0.05)  # 62 per epoch
        self.assertEqual((p.total_steps, p.warmup_steps), (310, 16))

    def test_warmup_is_exact_ceiling(self):
        self.assertEqual(warmup_steps_for(520, 0.05), 26)
        self.assertEqual(warmup_steps_for(540, 0.05), 27)
        self.assertEqual(warmup_steps_for(521, 0.05), 27)
        self.assertEqual(warmup_steps_for(20, 0.05), 1)

    def test_world_size_keeps_global_batch(self):
        a = make_plan(100, 1, 4, 1e-3, 0.05, world_size=1)
        b = make_plan(100, 1, 4, 1e-3, 0.05, world_size=2)
        self.assertEqual(a.total_steps, b.total_steps)
        self.assertEqual(a.global_batch, b.global_batch)
        with self.assertRaises(ValueError):
            make_plan(100, 1, 3, 1e-3, 0.05, world_size=2)

    def test_too_few_samples(self):
        with self.assertRaises(ValueError):
            make_plan(15, 5, 16, 1e-5, 0.05)

    def test_max_steps_replaces_epochs(self):
        p = make_plan(40, 1, 2, 1e-3, 0.05, max_steps=50)
        self.assertEqual(p.total_steps, 50)
        self.assertEqual(p.epochs, 3)
        self.assertEqual(lr_at(0, p), 0.0)
        self.assertEqual(lr_at(p.warmup_steps, p), 1e-3)

    def test_cpu_recipe_is_the_only_python_preset(self):
        import dcd_backend.schedule as schedule
        self.assertFalse(hasattr(schedule, "PRESETS"))
        self.assertEqual((CPU_SMOKE.name, CPU_SMOKE.grad_accum, CPU_SMOKE.lr, CPU_SMOKE.max_steps), ("cpu-smoke", 2, 3e-3, 20))
        self.assertIsNone(CPU_SMOKE.max_length)   # the export's own cut is the only one

    def test_manifest_plan_mirrors_core_plan(self):
        # the numbers test/unit/plan.test.ts asserts for core/training/plan.ts
        paper = manifest_plan(1675, "paper", epochs=5, grad_accum=16, lr=1e-5, tokens=10, trained_tokens=7)
        self.assertEqual((paper["steps_per_epoch"], paper["optimizer_steps"], paper["warmup_steps"]), (104, 520, 26))
        self.assertEqual(manifest_plan(1680, "paper", epochs=5, grad_accum=16, lr=1e-5)["warmup_steps"], 27)
        self.assertEqual(manifest_plan(15, "paper", epochs=5, grad_accum=16, lr=1e-5)["optimizer_steps"], 0)
        smoke = manifest_plan(1675, "smoke", epochs=1, grad_accum=1, lr=1e-5, max_steps=8)
        self.assertEqual((smoke["optimizer_steps"], smoke["warmup_steps"]), (8, 1))
        self.assertEqual(step_counts(3, 1, 1, 0.05, cap=8), (3, 3, 1))


if __name__ == "__main__":
    unittest.main()
