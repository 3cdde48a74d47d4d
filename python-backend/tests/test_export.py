import hashlib
import json
import unittest

import numpy as np

from dcd_backend.export import ExportError, check_tokenizer, load_export, sha256_file

from .helpers import make_export, read_events, run_train_inproc as run_train, tmpdir


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


if __name__ == "__main__":
    unittest.main()
