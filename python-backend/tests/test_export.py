import hashlib
import json
import unittest

import numpy as np

from dcd_backend.export import ExportError, check_tokenizer, load_export, sha256_file

from .helpers import REPO, make_export, read_events, run_train_inproc as run_train, step_events, tmpdir

SCHEMAS = REPO / "python-backend" / "dcd_backend"
TS_EXPORT = REPO / "test" / "fixtures" / "formats" / "ts-export"
TS_CORPUS = REPO / "test" / "fixtures" / "formats" / "ts-corpus.dcd.jsonl"
JOBS_EXPORT = REPO / "test" / "fixtures" / "jobs" / "export"
IM_START, IM_END = 151644, 151645   # Qwen2.5's <|im_start|> and <|im_end|>


def rewrite_manifest(path, **changes):
    m = json.loads((path / "manifest.json").read_text())
    m.update(changes)
    (path / "manifest.json").write_text(json.dumps(m))


def resave(path, name, arr):
    """Replace an array file and update its hash, so only the check under test can fail."""
    np.save(path / name, arr)
    m = json.loads((path / "manifest.json").read_text())
    m["files"][name] = sha256_file(path / name)
    (path / "manifest.json").write_text(json.dumps(m))


class LoadExport(unittest.TestCase):
    def setUp(self):
        self.dir = make_export(tmpdir(self) / "exp", samples=12, vocab_size=40)

    def test_valid_export(self):
        ex = load_export(self.dir)
        self.assertEqual(ex.samples, 12)
        m = json.loads((self.dir / "manifest.json").read_text())
        self.assertEqual(ex.tokens, m["tokens"])
        self.assertEqual(ex.trained_tokens, m["trained_tokens"])
        ids, labels = ex.sample(3)
        self.assertEqual(len(ids), ex.sample_length(3))
        self.assertTrue(((labels == -100) | (labels == ids)).all())
        self.assertEqual(len(ex.sample(3, max_length=5)[0]), 5)

    def test_refuses_changed_file(self):
        ids = np.load(self.dir / "ids.npy")
        ids[0] = (ids[0] + 1) % 40
        np.save(self.dir / "ids.npy", ids)   # hash in the manifest is now stale
        with self.assertRaisesRegex(ExportError, "ids.npy does not match the manifest"):
            load_export(self.dir)

    def test_refuses_wrong_dtype(self):
        resave(self.dir, "ids.npy", np.load(self.dir / "ids.npy").astype("<i8"))
        with self.assertRaisesRegex(ExportError, "<i4"):
            load_export(self.dir)

    def test_refuses_bad_offsets(self):
        off = np.load(self.dir / "offsets.npy")
        off[-1] += 1
        resave(self.dir, "offsets.npy", off)
        with self.assertRaisesRegex(ExportError, "offsets"):
            load_export(self.dir)

    def test_refuses_label_that_is_not_the_id(self):
        labels = np.load(self.dir / "labels.npy")
        ids = np.load(self.dir / "ids.npy")
        i = int(np.nonzero(labels != -100)[0][0])
        labels[i] = (ids[i] + 1) % 40
        resave(self.dir, "labels.npy", labels)
        with self.assertRaisesRegex(ExportError, "labels must be -100 or equal"):
            load_export(self.dir)

    def test_refuses_wrong_counts_and_format(self):
        rewrite_manifest(self.dir, trained_tokens=1)
        with self.assertRaisesRegex(ExportError, "trained tokens"):
            load_export(self.dir)
        rewrite_manifest(self.dir, version=2)
        with self.assertRaisesRegex(ExportError, "version"):
            load_export(self.dir)

    def test_tokenizer_fingerprint(self):
        tok = tmpdir(self) / "tokenizer.json"
        tok.write_text('{"model": {"type": "BPE"}}')
        ex = load_export(self.dir)
        with self.assertRaisesRegex(ExportError, "tokenizer fingerprint mismatch"):
            check_tokenizer(ex, tok)
        self.assertIn("allowed", check_tokenizer(ex, tok, allow_mismatch=True))
        ex.manifest["tokenizer"]["sha256"] = hashlib.sha256(tok.read_bytes()).hexdigest()
        self.assertIsNone(check_tokenizer(ex, tok))
        self.assertIsNone(check_tokenizer(ex, None))  # no tokenizer.json to compare with


class TrainerRefusesExport(unittest.TestCase):
    """train.py: a refused export is exit code 2 and an `error` event with a traceback file."""

    def test_hash_mismatch(self):
        root = tmpdir(self)
        data = make_export(root / "exp", samples=8, vocab_size=32)
        labels = np.load(data / "labels.npy")
        np.save(data / "labels.npy", labels[::-1].copy())
        proc = run_train(data, root / "run", "--dry-run")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        events = read_events(root / "run")
        self.assertEqual([e["event"] for e in events], ["error"])
        self.assertIn("labels.npy does not match the manifest", events[0]["message"])
        with open(events[0]["traceback_file"], encoding="utf-8") as f:
            self.assertIn("ExportError", f.read())

    def test_tokenizer_mismatch_then_match(self):
        root = tmpdir(self)
        tok_dir = root / "tok"
        tok_dir.mkdir()
        (tok_dir / "tokenizer.json").write_text('{"version": "1.0"}')
        (tok_dir / "tokenizer_config.json").write_text('{}')
        data = make_export(root / "exp", samples=8, vocab_size=32)
        proc = run_train(data, root / "run1", "--dry-run", "--tokenizer", str(tok_dir))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("tokenizer fingerprint mismatch", read_events(root / "run1")[-1]["message"])
        proc = run_train(data, root / "run2", "--dry-run", "--tokenizer", str(tok_dir), "--allow-tokenizer-mismatch")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("tokenizer fingerprint mismatch", read_events(root / "run2")[0]["tokenizer_warning"])
        # packed with this tokenizer: accepted, and its files travel with the final model
        good = make_export(root / "exp2", samples=8, vocab_size=32,
                           tokenizer_sha256=sha256_file(tok_dir / "tokenizer.json"))
        proc = run_train(good, root / "run3", "--tokenizer", str(tok_dir), "--max-steps", "2")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        final = root / "run3" / "final"
        self.assertEqual((final / "tokenizer.json").read_text(), '{"version": "1.0"}')
        self.assertTrue((final / "tokenizer_config.json").is_file())
        self.assertTrue((final / "config.json").is_file())


def manifest_errors(manifest: dict) -> list:
    """What the real JSON Schema implementation finds wrong with a manifest (docs/FORMATS.md section 1)."""
    import jsonschema
    schema = json.loads((SCHEMAS / "manifest_schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(manifest)]


class ManifestSchema(unittest.TestCase):
    """The manifest schema the TypeScript tests check `dcd pack` against holds for every writer."""

    def test_fixture_and_synthetic_manifests_match(self):
        for path in (TS_EXPORT, JOBS_EXPORT):
            self.assertEqual(manifest_errors(json.loads((path / "manifest.json").read_text())), [], path)
        root = tmpdir(self)
        for i, kw in enumerate(({}, {"plan_preset": None}, {"plan_preset": "smoke", "grad_accum": 1, "epochs": 1, "max_steps": 8})):
            data = make_export(root / f"exp{i}", samples=8, vocab_size=32, **kw)
            self.assertEqual(manifest_errors(json.loads((data / "manifest.json").read_text())), [], kw)

    def test_schema_refuses_a_broken_manifest(self):
        m = json.loads((TS_EXPORT / "manifest.json").read_text())
        del m["plan"]["optimizer_steps"]
        m["files"]["ids.npy"] = "not a hash"
        errors = manifest_errors(m)
        self.assertTrue(any("optimizer_steps" in e for e in errors), errors)
        self.assertTrue(any(e.startswith("files/ids.npy") for e in errors), errors)


class TypeScriptPackedExport(unittest.TestCase):
    """test/fixtures/formats/ts-export, written by the real `dcd pack` (PROVENANCE.md there), read
    and trained by this side."""

    def setUp(self):
        self.ex = load_export(TS_EXPORT)
        self.corpus = [json.loads(line) for line in TS_CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]

    def test_arrays_and_manifest(self):
        ex = self.ex
        self.assertEqual(ex.samples, len(self.corpus))
        self.assertEqual(ex.manifest["sample_ids"], [s["id"] for s in self.corpus])
        self.assertEqual(ex.manifest["tokenizer"]["vocab_size"], 151665)
        self.assertEqual((ex.ids.dtype.str, ex.labels.dtype.str, ex.offsets.dtype.str), ("<i4", "<i4", "<i8"))
        self.assertEqual(int(ex.offsets[-1]), ex.tokens)
        for i in range(ex.samples):
            ids, labels = ex.sample(i)
            self.assertEqual(int(ids[0]), IM_START, i)                 # the system turn opens the trace
            trained = np.nonzero(labels != -100)[0]
            # paper policy: trained from the <|im_start|> of <|im_start|>think to the final <|im_end|>
            self.assertEqual(int(ids[trained[0]]), IM_START, i)
            self.assertEqual((int(trained[-1]), int(ids[-1])), (len(ids) - 1, IM_END), i)
            self.assertTrue((labels[trained[0]:] == ids[trained[0]:]).all(), i)
            self.assertLessEqual(len(ids), ex.manifest["max_length"])

    def test_the_plan_is_read_from_it(self):
        plan = self.ex.manifest["plan"]
        self.assertEqual((plan["preset"], plan["optimizer_steps"], plan["warmup_steps"], plan["grad_accum"]), ("smoke", 5, 1, 1))
        root = tmpdir(self)
        proc = run_train(TS_EXPORT, root / "run", "--dry-run", preset="smoke")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        event = read_events(root / "run")[0]
        self.assertEqual((event["plan_source"], event["total_steps"], event["warmup_steps"], event["lr"]),
                         ("export", plan["optimizer_steps"], plan["warmup_steps"], plan["lr"]))
        proc = run_train(TS_EXPORT, root / "run2", "--dry-run", preset="paper")
        self.assertEqual(proc.returncode, 2, proc.stderr)

    def test_trains_two_steps_with_the_cpu_recipe(self):
        root = tmpdir(self)
        proc = run_train(TS_EXPORT, root / "run", "--max-steps", "2", "--save-every", "0",
                         preset="cpu-smoke")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        events = read_events(root / "run")
        self.assertEqual(sorted(step_events(events)), [1, 2])
        self.assertEqual(events[-1]["event"], "done")


if __name__ == "__main__":
    unittest.main()
