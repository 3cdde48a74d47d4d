import json
import unittest

from dcd_backend.events import EventWriter, load_schema, read_events, validate

from .helpers import REPO, make_export, run_train_inproc as run_train, tmpdir

FIXTURE = REPO / "test" / "fixtures" / "formats" / "events.jsonl"


class EventSchema(unittest.TestCase):
    def test_schema_is_json_schema_draft_07(self):
        schema = load_schema()
        self.assertEqual(schema["$schema"], "http://json-schema.org/draft-07/schema#")
        self.assertEqual({b["properties"]["event"]["const"] for b in schema["oneOf"]},
                         {"plan", "step", "lr", "checkpoint", "done", "error"})

    def test_fixture_validates_and_covers_every_event(self):
        events = read_events(FIXTURE)
        for i, e in enumerate(events):
            self.assertEqual(validate(e), [], f"line {i + 1}: {e}")
        self.assertEqual({e["event"] for e in events}, {"plan", "step", "lr", "checkpoint", "done", "error"})
        self.assertEqual({e["reason"] for e in events if e["event"] == "checkpoint"}, {"interval", "signal", "final"})
        self.assertTrue(any(e["event"] == "done" and e["model_dir"] is None for e in events))      # dry run
        self.assertTrue(any(e["event"] == "done" and e["model_dir"] is not None for e in events))  # training
        self.assertTrue(any(e["event"] == "step" and e["loss"] == "NaN" for e in events))         # diverged
        self.assertTrue(any(e["event"] == "done" and e["final_loss"] == "NaN" for e in events))

    def test_validator_rejects(self):
        good = {"event": "step", "step": 1, "loss": 2.5, "lr": 1e-5, "grad_norm": 0.5, "tokens": 10,
                "tokens_per_s": 100.0, "elapsed_s": 0.1, "time": "2025-01-01T00:00:00.000Z"}
        self.assertEqual(validate(good), [])
        self.assertEqual(validate({**good, "extra_field": 1}), [])                  # extras allowed
        for measured in ("NaN", "Infinity", "-Infinity", None):                    # None: earlier trainers' NaN
            self.assertEqual(validate({**good, "loss": measured, "grad_norm": measured}), [], measured)
        bad = [
            {k: v for k, v in good.items() if k != "lr"},          # missing field
            {**good, "step": "1"},                                 # wrong type
            {**good, "step": 0},                                   # steps are 1-based
            {**good, "loss": "nan"},                               # not the schema's spelling
            {**good, "loss": "4.2"},                               # a number as a string
            {**good, "tokens": 1.5},                               # integer required
            {**good, "event": "steps"},                            # unknown event
            {**good, "time": "2025-01-01 00:00:00"},               # not ISO-8601 UTC
            {"event": "checkpoint", "step": 3, "path": "/x", "reason": "manual", "time": good["time"]},
            {"event": "error", "time": good["time"]},
            [good],
        ]
        for b in bad:
            with self.subTest(b=b):
                self.assertNotEqual(validate(b), [])

    def test_writer_spells_out_non_finite_floats(self):
        path = tmpdir(self) / "events.jsonl"
        w = EventWriter(path)
        w.emit("step", step=1, loss=float("nan"), lr=0.0, grad_norm=float("inf"), tokens=3, tokens_per_s=1.0, elapsed_s=0.0)
        w.emit("done", step=1, final_loss=float("-inf"), model_dir=None, elapsed_s=0.0)
        w.close()
        step, done = [json.loads(line, parse_constant=self.fail) for line in path.read_text().splitlines()]
        self.assertEqual((step["loss"], step["grad_norm"], done["final_loss"]), ("NaN", "Infinity", "-Infinity"))
        self.assertEqual(validate(step), [])
        self.assertEqual(validate(done), [])

    def test_a_fresh_run_validates(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=8, vocab_size=32)
        proc = run_train(data, root / "run", "--max-steps", "3", "--save-every", "2")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        events = read_events(root / "run" / "events.jsonl")
        self.assertEqual([e["event"] for e in events],
                         ["plan", "step", "step", "checkpoint", "step", "checkpoint", "done"])
        for e in events:
            self.assertEqual(validate(e), [], e)


if __name__ == "__main__":
    unittest.main()
