"""The run's lineage record (docs/FORMATS.md §6): train.py writes, in final/dcd_training.json,
the export it trained on by absolute path and the sha256 of its manifest.json, the trainer's
export fingerprint, the recipe, precision, loss normalisation and the code version."""
import hashlib
import json
import shutil
import unittest
from pathlib import Path

import dcd_backend
from dcd_backend.export import load_export

from .helpers import REPO, run_train_inproc, tmpdir

TS_EXPORT = REPO / "test" / "fixtures" / "formats" / "ts-export"


class RunLineageTest(unittest.TestCase):
    def test_final_records_the_export_by_manifest_hash_and_what_ran(self):
        root = tmpdir(self)
        data = root / "export"
        shutil.copytree(TS_EXPORT, data)
        r = run_train_inproc(data, root / "run", "--max-steps", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads((root / "run" / "final" / "dcd_training.json").read_text(encoding="utf-8"))
        lin = info["lineage"]
        self.assertEqual((lin["format"], lin["version"], lin["kind"]), ("dcd-lineage", 1, "run"))
        self.assertEqual(lin["parents"], [{
            "kind": "export", "path": str(data.resolve()),
            "sha256": hashlib.sha256((data / "manifest.json").read_bytes()).hexdigest(),
            "fingerprint": load_export(data).fingerprint(),
        }])
        self.assertEqual(lin["recipe"]["total_steps"], 2)
        self.assertEqual(lin["recipe"]["model"], "builtin:tiny")
        self.assertNotIn("export", lin["recipe"])
        self.assertEqual((lin["precision"], lin["loss_norm"]), (info["precision"], info["loss_norm"]))
        train_py = Path(__file__).resolve().parents[1] / "train.py"
        self.assertEqual(lin["code_version"], {"dcd_backend": dcd_backend.__version__,
                                               "train_py_sha256": hashlib.sha256(train_py.read_bytes()).hexdigest()})


class BuiltinTokenizerTest(unittest.TestCase):
    """builtin:tiny has no tokenizer of its own: it takes the export's copy (EXPORT/tokenizer/, written
    by `dcd pack`), checked against the manifest, and saves it in final/, which then loads with
    transformers with a vocabulary that covers every token id."""

    def test_final_of_builtin_tiny_loads_with_the_exports_tokenizer(self):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from dcd_backend.models import resolve_tokenizer_dir
        from .helpers import tiny_hf_model
        root = tmpdir(self)
        data = root / "export"
        shutil.copytree(TS_EXPORT, data)
        self.assertIsNone(resolve_tokenizer_dir("builtin:tiny", None, data), "an export without tokenizer/")
        (data / "tokenizer").mkdir()
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(tiny_hf_model() / name, data / "tokenizer" / name)
        self.assertEqual(resolve_tokenizer_dir("builtin:tiny", None, data), data / "tokenizer")
        self.assertEqual(resolve_tokenizer_dir("builtin:tiny", "/explicit", data), Path("/explicit"))
        manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
        self.assertEqual(hashlib.sha256((data / "tokenizer" / "tokenizer.json").read_bytes()).hexdigest(), manifest["tokenizer"]["sha256"])
        r = run_train_inproc(data, root / "run", "--max-steps", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        final = root / "run" / "final"
        self.assertEqual(hashlib.sha256((final / "tokenizer.json").read_bytes()).hexdigest(), manifest["tokenizer"]["sha256"])
        tok = AutoTokenizer.from_pretrained(final)
        model = AutoModelForCausalLM.from_pretrained(final)
        self.assertEqual(model.config.vocab_size, manifest["tokenizer"]["vocab_size"])
        self.assertGreaterEqual(model.config.vocab_size, len(tok))
        ids = tok("Natalia sold clips to 48 of her friends.", return_tensors="pt").input_ids
        self.assertEqual(model(ids).logits.shape[-1], model.config.vocab_size)


class HostLineageTest(unittest.TestCase):
    """dcd_backend.lineage (for evaluations on a host) agrees with `dcd lineage` (TypeScript)."""

    def test_folder_hash_and_eval_sidecar_match_the_typescript_reader(self):
        import subprocess
        from dcd_backend.lineage import folder_hash, write_eval_sidecar
        root = tmpdir(self)
        model = root / "final"
        (model / "sub").mkdir(parents=True)
        (model / "config.json").write_text("{}", encoding="utf-8")
        (model / "dcd_training.json").write_text('{"config": {}}', encoding="utf-8")
        (model / "sub" / "é.bin").write_bytes(bytes(range(256)))
        out = root / "evals"
        shutil.copytree(REPO / "test" / "fixtures" / "lmeval" / "gemma3-12b-u1_tuned_gsm8k5shot", out / "m")
        rec = write_eval_sidecar(out, model, ["gsm8k"], 3, "job-1", "gpu")
        self.assertEqual(rec["parents"][0]["sha256"], folder_hash(model))
        self.assertEqual(sorted(rec["files"]), ["m/results_2025-09-09T13-31-53.431753.json",
                                                "m/samples_gsm8k_2025-09-09T13-31-53.431753.jsonl"])
        r = subprocess.run(["node", "--import", "tsx", str(REPO / "src" / "cli" / "index.ts"), "lineage", str(out),
                            "--root", str(root), "--no-cache", "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertEqual(report["target"]["kind"], "eval")
        self.assertEqual(report["target"]["problems"], [])
        self.assertEqual([(n["kind"], n["id"], n["sha256"]) for n in report["ancestors"][:1]],
                         [("model", str(model.resolve()), folder_hash(model))])
        self.assertFalse(report["target"]["stale"])
        (model / "config.json").write_text('{"changed": true}', encoding="utf-8")
        r = subprocess.run(["node", "--import", "tsx", str(REPO / "src" / "cli" / "index.ts"), "lineage", str(out),
                            "--root", str(root), "--no-cache", "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
        self.assertTrue(json.loads(r.stdout)["target"]["stale"])


if __name__ == "__main__":
    unittest.main()
